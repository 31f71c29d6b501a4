import type { Readable } from 'node:stream';
import type { ContainerClient } from '@azure/storage-blob';
import type { LandedPosition } from '@hubcap/shared';
import { type CaptureLayout, captureLayout } from './path-format.ts';
import { type CaptureEvent, CaptureFileError, readCaptureFile } from './read-file.ts';

/** One of Capture's files, as its name describes it. */
export interface CaptureFileRef {
  name: string;
  partitionId: string;
  /** Start of its window, from its name (epoch ms). */
  time: number;
}

/** A file that could not be used, by name, and why. */
export interface FileProblem {
  file: string;
  message: string;
}

/** Storage could not be listed or read: nothing can be said about the files. */
export class StorageUnreachableError extends Error {
  override name = 'StorageUnreachableError';
  /** Storage answered, but what was asked for (a container) does not exist: the caller's mistake. */
  readonly missing: boolean;
  constructor(message: string, missing = false) {
    super(message);
    this.missing = missing;
  }
}

/** How long storage may stay silent (no page of a listing, no bytes of a file) before a read gives up. */
export const STORAGE_IDLE_MS = 30_000;

/** Aborts when `touch` has not been called for `idleMs`: a peer that stops answering ends the read. */
export function watchdog(what: string, idleMs: number) {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const touch = () => {
    clearTimeout(timer);
    timer = setTimeout(
      () =>
        controller.abort(
          new StorageUnreachableError(`${what}: storage did not answer for ${idleMs / 1000} s`),
        ),
      idleMs,
    );
  };
  touch();
  return { signal: controller.signal, touch, stop: () => clearTimeout(timer) };
}

/**
 * What went wrong talking to storage, as a category or an error code: never the remote side's own words
 * (a server told to connect somewhere must not become a way to read what answers there).
 */
function storageFailure(error: unknown, notFound: string): string {
  const e = error as { statusCode?: number; code?: unknown };
  if (e.statusCode === 404) return notFound;
  if (e.statusCode === 401 || e.statusCode === 403)
    return 'the storage account refused access (check the connection)';
  if (typeof e.code === 'string' && /^[A-Za-z_]{1,64}$/.test(e.code)) return e.code;
  return e.statusCode ? `unexpected answer (HTTP ${e.statusCode})` : 'no usable answer';
}

/** Lists blobs under `prefix`, turning a failure to reach storage into one plain sentence. */
export async function* listBlobs(container: ContainerClient, prefix: string, idleMs = STORAGE_IDLE_MS) {
  const where = `cannot list ${container.containerName}/${prefix}`;
  const watch = watchdog(where, idleMs);
  try {
    for await (const page of container.listBlobsFlat({ prefix, abortSignal: watch.signal }).byPage()) {
      watch.touch();
      yield* page.segment.blobItems;
    }
  } catch (error) {
    if (watch.signal.aborted) throw watch.signal.reason;
    throw new StorageUnreachableError(
      `${where}: ${storageFailure(error, `container "${container.containerName}" does not exist`)}`,
      (error as { statusCode?: number }).statusCode === 404,
    );
  } finally {
    watch.stop();
  }
}

/** Capture's files among `names`, per partition, oldest window first (names of other files are ignored). */
export function groupCaptureFiles(
  names: Iterable<string>,
  layout: CaptureLayout,
): Map<string, CaptureFileRef[]> {
  const byPartition = new Map<string, CaptureFileRef[]>();
  for (const name of names) {
    const parsed = layout.parse(name);
    if (!parsed) continue;
    const files = byPartition.get(parsed.partitionId) ?? [];
    files.push({ name, ...parsed });
    byPartition.set(parsed.partitionId, files);
  }
  for (const files of byPartition.values())
    files.sort((a, b) => a.time - b.time || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return byPartition;
}

/** Capture's files of one hub in `container`, per partition, oldest window first. */
export async function listCaptureFiles(
  container: ContainerClient,
  pathFormat: string,
  namespace: string,
  hub: string,
  idleMs = STORAGE_IDLE_MS,
): Promise<Map<string, CaptureFileRef[]>> {
  const layout = captureLayout(pathFormat, namespace, hub);
  const names: string[] = [];
  for await (const blob of listBlobs(container, layout.listPrefix, idleMs)) names.push(blob.name);
  return groupCaptureFiles(names, layout);
}

async function readFile(container: ContainerClient, name: string, firstOnly: boolean, idleMs: number) {
  const watch = watchdog(`cannot read ${name}`, idleMs);
  try {
    const response = await container
      .getBlobClient(name)
      .download(0, undefined, { abortSignal: watch.signal });
    const body = response.readableStreamBody as Readable | undefined;
    if (!body) throw new Error('no content stream');
    body.on('data', watch.touch);
    return await readCaptureFile(body, name, { firstOnly });
  } catch (error) {
    if (watch.signal.aborted) throw watch.signal.reason;
    if (error instanceof CaptureFileError) throw error;
    throw new StorageUnreachableError(`cannot read ${name}: ${storageFailure(error, 'it no longer exists')}`);
  } finally {
    watch.stop();
  }
}

/** Capture writes `M/d/yyyy h:mm:ss AM|PM` (UTC); shown as ISO 8601 when it reads as that. */
export function captureTimeToIso(value: string): string {
  const m = /^(\d{1,2})\/(\d{1,2})\/(\d{4}) (\d{1,2}):(\d{2}):(\d{2}) ([AP])M$/.exec(value);
  if (!m) return value;
  const [month, day, year, hour, minute, second] = m.slice(1, 7).map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const hour24 = (hour % 12) + (m[7] === 'P' ? 12 : 0);
  const time = Date.UTC(year, month - 1, day, hour24, minute, second);
  return Number.isNaN(time) ? value : new Date(time).toISOString();
}

function position(event: CaptureEvent, file: string): LandedPosition {
  return {
    sequenceNumber: event.sequenceNumber,
    offset: event.offset,
    enqueuedTime: captureTimeToIso(event.enqueuedTimeUtc),
    file,
  };
}

/**
 * Capture's last event on a partition: the last record of its newest file that has one. Empty files
 * are skipped; a file that cannot be read is named in `problems` and the scan goes on to older ones.
 */
export async function lastCaptured(
  container: ContainerClient,
  files: readonly CaptureFileRef[],
  idleMs = STORAGE_IDLE_MS,
): Promise<{ last: LandedPosition | null; problems: FileProblem[] }> {
  const problems: FileProblem[] = [];
  for (const file of [...files].reverse()) {
    try {
      const summary = await readFile(container, file.name, false, idleMs);
      if (summary.last) return { last: position(summary.last, file.name), problems };
    } catch (error) {
      if (!(error instanceof CaptureFileError)) throw error;
      problems.push({ file: file.name, message: error.message });
    }
  }
  return { last: null, problems };
}

/**
 * Capture's first event at or after `fromSequence` on a partition, from the first record of each file:
 * the oldest file that starts there or later. Reads files newest first and stops at the first older one.
 */
export async function firstCapturedFrom(
  container: ContainerClient,
  files: readonly CaptureFileRef[],
  fromSequence: number,
  idleMs = STORAGE_IDLE_MS,
): Promise<{ first: LandedPosition | null; problems: FileProblem[] }> {
  const problems: FileProblem[] = [];
  let first: LandedPosition | null = null;
  for (const file of [...files].reverse()) {
    try {
      const summary = await readFile(container, file.name, true, idleMs);
      if (!summary.first) continue;
      if (summary.first.sequenceNumber < fromSequence) break;
      first = position(summary.first, file.name);
    } catch (error) {
      if (!(error instanceof CaptureFileError)) throw error;
      problems.push({ file: file.name, message: error.message });
    }
  }
  return { first, problems };
}
