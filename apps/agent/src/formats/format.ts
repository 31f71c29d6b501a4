import type { Duplex } from 'node:stream';
import type { TokenCredential } from '@azure/identity';
import type { ContainerClient } from '@azure/storage-blob';
import type { Format as FormatConfig, TopicConfig } from '@hubcap/shared';
import type { Env } from '../env.ts';
import type { FlushedFiles } from '../ingest/flushed-files.ts';
import type { FieldDescription, RowError } from '../pipeline/json-schema.ts';
import type { Logger } from '../runtime/logger.ts';
import type { Metrics } from '../runtime/metrics.ts';
import type { AgentStatus } from '../runtime/status.ts';

/**
 * A file format, one folder each under `formats/`, registered in `formats/index.ts` by its
 * `TopicConfig.format.type`. `C` is its part of the topic config, `O` what its encoder needs beyond
 * the config (built by `start`; tests and benchmarks build their own).
 */
export interface Format<C extends FormatConfig, O = object> {
  /** The file name's extension, with its dot (`.ndjson.gz`). */
  extension(config: C): string;
  contentType(config: C): string;
  /** Whether a segment's rows go to local disk (`HUBCAP_SPILL_DIR`) before its file can be encoded. */
  readonly spillsToDisk: boolean;
  /**
   * Whether events are checked by content and those the format cannot hold become dead letters (in
   * any format, an event its writer itself refuses becomes one too, as `unwritable`).
   */
  deadLetters(config: C): boolean;
  /**
   * The encoder of one file: a chain of streams that takes batches of events (object mode,
   * `SourceEvent[]`) and emits the file's bytes as they are produced, so a sink can upload while the
   * file grows. Throws at once when `options` lack what the format needs.
   */
  encoder(config: C, options: O): (ctx: SegmentContext) => [Duplex, ...Duplex[]];
  /** What the format needs for one pipeline's run (Parquet: DuckDB, the running schema, a registry). */
  start(config: C, context: FormatStart): Promise<StartedParts<O>>;
}

export interface StartedParts<O> {
  options: O;
  /** Releases what `start` opened, after the pipeline has drained. */
  close(): void;
}

/** What the agent offers a format when a pipeline starts. */
export interface FormatStart {
  topic: TopicConfig;
  env: Env;
  agentId: string;
  /** Where the agent keeps state beside the checkpoints (checkpoint container, or the local folder). */
  state: StateLocation;
  status: AgentStatus;
  log: Logger;
  metrics: Metrics;
  /** Microsoft Entra ID credential (workload or managed identity, `clientId` to pick one). */
  credential(clientId: string | undefined): TokenCredential;
  /** Files once published and checkpointed (subscribe to report what the format adds). */
  flushed: FlushedFiles;
}

export type StateLocation =
  | { kind: 'container'; container: ContainerClient }
  | { kind: 'folder'; path: string };

/** A format made ready for one topic: what the partition writers use. */
export interface FileFormat {
  readonly extension: string;
  readonly contentType: string;
  /** Fresh streams for one file; the first takes `SourceEvent[]`, the last emits Buffers. */
  createStreams(ctx: SegmentContext): [Duplex, ...Duplex[]];
}

/**
 * The contract between a partition's segment and the format's encoder: what the encoder hands back,
 * how a dead letter leaves it, and how it says that it cannot write what it was given.
 */
export interface SegmentContext {
  partitionId: string;
  /** Takes one dead-letter line; a returned promise means "wait before sending more". */
  deadLetter(line: Buffer): Promise<void> | undefined;
  result: SegmentResult;
}

export interface SegmentResult {
  rows: number;
  deadLettered: number;
  deadLetterKinds: Partial<Record<RowError['kind'], number>>;
  /** The running schema the file was written with (formats that keep one). */
  schema?: SchemaVersion;
}

/** A version of a format's running schema. */
export interface SchemaVersion {
  /** Agent-local counter (1, 2, …); the control plane numbers versions per topic by fingerprint. */
  number: number;
  /** sha256 of the sorted field list: equal schemas have equal fingerprints across replicas. */
  fingerprint: string;
  fields: FieldDescription[];
  firstSeenAt: Date;
}

export function newSegmentResult(): SegmentResult {
  return { rows: 0, deadLettered: 0, deadLetterKinds: {} };
}

/**
 * The format's writer refused a segment's content (not an outage): the same events would fail again.
 * The partition writer isolates the event that causes it and writes it as a dead letter.
 */
export class UnwritableError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'UnwritableError';
  }
}
