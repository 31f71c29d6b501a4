import {
  type AgentError,
  type EventPosition,
  type FileReport,
  MAX_REPORTED_ERRORS,
  MAX_REPORTED_FILES,
  MAX_REPORTED_SCHEMAS,
  type SchemaVersionReport,
} from '@hubcap/shared';
import { scrubSecrets } from './logger.ts';

export type ErrorKind = AgentError['kind'];

/**
 * What the next report carries, bounded: beyond `max` the oldest items are dropped. A report that
 * could not be delivered puts its items back, so the control plane being down loses nothing recent
 * and memory stays bounded.
 */
export class ReportOutbox<T> {
  readonly #max: number;
  #items: T[] = [];

  constructor(max: number) {
    this.#max = max;
  }

  push(item: T): void {
    this.#items.push(item);
    if (this.#items.length > this.#max) this.#items.shift();
  }

  take(): T[] {
    const items = this.#items;
    this.#items = [];
    return items;
  }

  restore(items: readonly T[]): void {
    this.#items = [...items, ...this.#items].slice(-this.#max);
  }
}

/** What the agent knows about one partition, for metrics and reports. */
export interface PartitionStats {
  lastEnqueued: EventPosition | null;
  lastReceived: EventPosition | null;
  lastCheckpointed: EventPosition | null;
  /** The checkpoint's sequence number when this replica claimed the partition (before its first file). */
  resumedFrom: number | null;
  /** Enqueued time of the oldest received event not yet checkpointed. */
  oldestPending: Date | null;
  eventsReceived: number;
  bytesReceived: number;
}

export function newPartitionStats(): PartitionStats {
  return {
    lastEnqueued: null,
    lastReceived: null,
    lastCheckpointed: null,
    resumedFrom: null,
    oldestPending: null,
    eventsReceived: 0,
    bytesReceived: 0,
  };
}

export function position(event: { sequenceNumber: number; offset: string; enqueuedTimeUtc: Date }) {
  return {
    sequenceNumber: event.sequenceNumber,
    offset: String(event.offset),
    enqueuedTime: event.enqueuedTimeUtc.toISOString(),
  };
}

/** Lag of a partition: events enqueued but not checkpointed, and the age of the oldest of them. */
export function partitionLag(stats: PartitionStats, nowMs: number): { events: number; seconds: number } {
  // The service's newest event is read on a timer: what was received since may be newer.
  const enqueued = Math.max(
    stats.lastEnqueued?.sequenceNumber ?? -1,
    stats.lastReceived?.sequenceNumber ?? -1,
  );
  const checkpointed = stats.lastCheckpointed?.sequenceNumber ?? stats.resumedFrom ?? -1;
  const events = Math.max(0, enqueued - checkpointed);
  if (events === 0) return { events, seconds: 0 };
  const oldest =
    stats.oldestPending?.getTime() ??
    (stats.lastEnqueued ? Date.parse(stats.lastEnqueued.enqueuedTime) : nowMs);
  return { events, seconds: Math.max(0, (nowMs - oldest) / 1000) };
}

/**
 * Readiness and errors. Ready once the source and the sink have been verified, and while no fatal
 * condition (bad credentials, missing container) persists. Errors are kept for the next report.
 */
export class AgentStatus {
  readonly startedAt = new Date();
  readonly partitions = new Map<string, PartitionStats>();
  readonly totals = { eventsWritten: 0, bytesWritten: 0, filesWritten: 0, deadLettered: 0 };
  readonly deadLetteredByReason: Record<string, number> = {};
  /** Errors, new schema versions and committed files since the previous report. */
  readonly errors = new ReportOutbox<AgentError>(MAX_REPORTED_ERRORS);
  readonly schemas = new ReportOutbox<SchemaVersionReport>(MAX_REPORTED_SCHEMAS);
  readonly files = new ReportOutbox<FileReport>(MAX_REPORTED_FILES);
  readonly #checks = new Map<string, boolean>([
    ['source', false],
    ['sink', false],
  ]);
  readonly #fatal = new Map<string, string>();

  setCheck(name: 'source' | 'sink', ok: boolean): void {
    this.#checks.set(name, ok);
  }

  setFatal(key: string, message: string): void {
    this.#fatal.set(key, scrubSecrets(message));
  }

  clearFatal(key: string): void {
    this.#fatal.delete(key);
  }

  get ready(): boolean {
    return [...this.#checks.values()].every(Boolean) && this.#fatal.size === 0;
  }

  /** Why the agent is not ready, one line per reason (empty when ready). */
  get reasons(): string[] {
    const out: string[] = [];
    for (const [name, ok] of this.#checks) if (!ok) out.push(`${name} not verified yet`);
    for (const [key, message] of this.#fatal) out.push(`${key}: ${message}`);
    return out;
  }

  recordError(kind: ErrorKind, message: string, retryable: boolean, partitionId?: string): void {
    const error: AgentError = {
      at: new Date().toISOString(),
      kind,
      message: scrubSecrets(message).slice(0, 2000) || 'unknown error',
      retryable,
      ...(partitionId ? { partitionId } : {}),
    };
    this.errors.push(error);
  }

  partition(id: string): PartitionStats {
    let stats = this.partitions.get(id);
    if (!stats) {
      stats = newPartitionStats();
      this.partitions.set(id, stats);
    }
    return stats;
  }
}
