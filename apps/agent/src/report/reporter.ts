import type { AgentReport, EventPosition, PartitionReport } from '@hubcap/shared';
import { type BackoffOptions, backoffDelay, sleepUnlessAborted } from '../runtime/backoff.ts';
import type { Logger } from '../runtime/logger.ts';
import type { Metrics } from '../runtime/metrics.ts';
import { type AgentStatus, partitionLag } from '../runtime/status.ts';
import type { ControlPlaneClient } from './control-plane-client.ts';

export interface ReportIdentity {
  agentId: string;
  topic: string;
  agentVersion: string;
  configVersion: number | undefined;
  /** The newest version this agent has not applied, and why (invalid, or waiting for a restart). */
  configIssue?: AgentReport['configIssue'];
}

/** Builds reports from the agent's status; rates are per second since the previous report. */
export class ReportBuilder {
  readonly #status: AgentStatus;
  readonly #identity: ReportIdentity;
  #previous = new Map<string, { at: number; events: number; bytes: number }>();

  constructor(status: AgentStatus, identity: ReportIdentity) {
    this.#status = status;
    this.#identity = identity;
  }

  build(now = Date.now()): AgentReport {
    const partitions: PartitionReport[] = [];
    const next = new Map<string, { at: number; events: number; bytes: number }>();
    let eventsPerSecond = 0;
    let bytesPerSecond = 0;
    for (const [partitionId, stats] of [...this.#status.partitions].sort(([a], [b]) =>
      a.localeCompare(b, 'en', { numeric: true }),
    )) {
      const before = this.#previous.get(partitionId) ?? {
        at: this.#status.startedAt.getTime(),
        events: 0,
        bytes: 0,
      };
      const seconds = Math.max(0.001, (now - before.at) / 1000);
      const eps = Math.max(0, (stats.eventsReceived - before.events) / seconds);
      const bps = Math.max(0, (stats.bytesReceived - before.bytes) / seconds);
      next.set(partitionId, { at: now, events: stats.eventsReceived, bytes: stats.bytesReceived });
      const lag = partitionLag(stats, now);
      partitions.push({
        partitionId,
        // The service's newest event is read every few seconds: what arrived since is newer.
        lastEnqueued: newest(stats.lastEnqueued, stats.lastReceived),
        lastReceived: stats.lastReceived,
        lastCheckpointed: stats.lastCheckpointed,
        lagEvents: lag.events,
        lagSeconds: lag.seconds,
        eventsPerSecond: eps,
        bytesPerSecond: bps,
      });
      eventsPerSecond += eps;
      bytesPerSecond += bps;
    }
    this.#previous = next;
    const schemaVersions = this.#status.schemas.take();
    const recentFiles = this.#status.files.take();
    return {
      agentId: this.#identity.agentId,
      topic: this.#identity.topic,
      agentVersion: this.#identity.agentVersion,
      sentAt: new Date(now).toISOString(),
      startedAt: this.#status.startedAt.toISOString(),
      ready: this.#status.ready,
      ...(this.#identity.configVersion !== undefined ? { configVersion: this.#identity.configVersion } : {}),
      ...(this.#identity.configIssue ? { configIssue: this.#identity.configIssue } : {}),
      partitions,
      eventsPerSecond,
      bytesPerSecond,
      eventsWritten: this.#status.totals.eventsWritten,
      bytesWritten: this.#status.totals.bytesWritten,
      filesWritten: this.#status.totals.filesWritten,
      deadLettered: this.#status.totals.deadLettered,
      errors: this.#status.errors.take(),
      ...(Object.keys(this.#status.deadLetteredByReason).length > 0
        ? { deadLetteredByReason: { ...this.#status.deadLetteredByReason } }
        : {}),
      ...(schemaVersions.length > 0 ? { schemaVersions } : {}),
      ...(recentFiles.length > 0 ? { recentFiles } : {}),
    };
  }
}

export interface ReporterOptions {
  client: ControlPlaneClient;
  builder: ReportBuilder;
  status: AgentStatus;
  intervalMs: number;
  log: Logger;
  metrics?: Metrics;
  backoff?: BackoffOptions;
  onConfigVersion?(version: number): void;
}

/**
 * Sends a report every interval. Never blocks ingestion: one send at a time, each with its own
 * timeout (in the client); while the control plane is down it retries with exponential backoff and
 * jitter, and every attempt sends a fresh report, so nothing queues up (the errors of a report that
 * was not delivered are carried into the next one, up to the report's limit).
 */
export class Reporter {
  readonly #o: ReporterOptions;
  readonly #stop = new AbortController();
  #loop: Promise<void> | null = null;
  #closed: Promise<void> | null = null;
  #intervalMs: number;
  /** Reports not delivered since start. */
  failed = 0;

  constructor(options: ReporterOptions) {
    this.#o = options;
    this.#intervalMs = options.intervalMs;
  }

  /** A new config's reporting interval, from the next report on. */
  setIntervalMs(ms: number): void {
    this.#intervalMs = ms;
  }

  start(): void {
    this.#loop ??= this.#run();
  }

  async #send(): Promise<boolean> {
    const report = this.#o.builder.build();
    try {
      const { configVersion } = await this.#o.client.report(report);
      this.#o.onConfigVersion?.(configVersion);
      return true;
    } catch (error) {
      this.failed++;
      this.#o.status.errors.restore(report.errors);
      this.#o.status.schemas.restore(report.schemaVersions ?? []);
      this.#o.status.files.restore(report.recentFiles ?? []);
      this.#o.metrics?.errors.inc({ kind: 'report' });
      this.#o.log.warn({ error: (error as Error).message }, 'report not delivered; retrying with backoff');
      return false;
    }
  }

  async #run(): Promise<void> {
    const signal = this.#stop.signal;
    const backoff = this.#o.backoff ?? { baseMs: 1000, maxMs: Math.max(this.#intervalMs * 6, 60_000) };
    let failures = 0;
    while (!signal.aborted) {
      const ok = await this.#send();
      failures = ok ? 0 : failures + 1;
      const wait = ok ? this.#intervalMs : Math.max(200, backoffDelay(failures, backoff));
      if (!(await sleepUnlessAborted(wait, signal))) break;
    }
  }

  /** Stops the loop and makes one last attempt (bounded by the client's timeout). */
  close(): Promise<void> {
    this.#closed ??= (async () => {
      this.#stop.abort();
      await this.#loop;
      await this.#send();
    })();
    return this.#closed;
  }
}

function newest(a: EventPosition | null, b: EventPosition | null): EventPosition | null {
  if (!a || !b) return a ?? b;
  return b.sequenceNumber > a.sequenceNumber ? b : a;
}
