import type { Writable } from 'node:stream';
import { type StoredFile, unsafePathProblem } from '@hubcap/shared';
import type { StorageErrorInfo } from './errors.ts';

/**
 * Where files land.
 *
 * A segment's final name carries its last sequence number, which is only known when the segment
 * ends, while its bytes are uploaded as they are produced (memory stays bounded). So a file is written
 * in two steps: bytes go to `stream` (a hidden staging location), then `publish(path)` makes them
 * visible under the final name, complete and atomically. Readers never see a partial file, and a
 * file that is never published leaves nothing in the lake.
 */
export interface SinkFile {
  readonly stream: Writable;
  /** After `stream` has finished: publishes the bytes under `path` (overwriting an existing file). */
  publish(path: string): Promise<void>;
  /** Drops the bytes (staging data is removed best-effort). */
  discard(): Promise<void>;
}

export interface Sink {
  readonly kind: 'azureBlob' | 'localFolder';
  /** For logs: account/container or folder. */
  readonly location: string;
  /** Checks the destination exists and is reachable with the configured credentials. */
  verify(signal?: AbortSignal): Promise<void>;
  /** `stagingName` identifies the file while it is written (e.g. `3-00000000000000000042`). */
  openFile(stagingName: string, contentType: string, signal: AbortSignal): SinkFile;
  /** Full paths of the files whose path starts with `prefix`. */
  list(prefix: string, signal?: AbortSignal): Promise<string[]>;
  /** Every file under `prefix` (recursively), with its size and MD5 (Content-MD5 for blobs). */
  describe(prefix: string, signal?: AbortSignal): Promise<StoredFile[]>;
  /** A small file's bytes (manifests, dead letters), or null when it does not exist. */
  read(path: string, signal?: AbortSignal): Promise<Buffer | null>;
  /**
   * Removes staging data that a killed agent left behind: only this sink's own staging names (never
   * a lake file), only those last touched before `olderThan`. Returns the names removed.
   */
  sweepStaging(olderThan: Date, signal?: AbortSignal): Promise<string[]>;
  close(): Promise<void>;
}

export interface SinkObserver {
  onError(operation: string, info: StorageErrorInfo, attempt: number): void;
  onSuccess(operation: string): void;
}

export const silentObserver: SinkObserver = { onError() {}, onSuccess() {} };

/**
 * The leaf name of a staging file: `<partition>-<first seq, 20 digits>[-deadletter].<12 hex>` (see
 * PartitionWriter and `openFile`). Sweeps match it exactly, so nothing else can ever be removed.
 */
export const STAGING_LEAF = /^\d+-\d{20}(-deadletter)?\.[0-9a-f]{12}$/;

/**
 * `path` when it stays inside the destination; throws otherwise. The shared schema already refuses
 * templates and prefixes with "..", empty or absolute segments; this checks the final name again,
 * since variables are filled in from event metadata.
 */
export function checkedPath(path: string): string {
  const problem = unsafePathProblem(path);
  if (problem) throw new Error(`refusing to write "${path}" outside the destination: the name ${problem}`);
  return path;
}
