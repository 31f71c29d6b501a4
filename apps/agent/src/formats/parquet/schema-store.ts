import { createHash, randomUUID } from 'node:crypto';
import type { Stats } from 'node:fs';
import { link, mkdir, open, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ContainerClient } from '@azure/storage-blob';

/**
 * Where a topic's running schema is kept: one small document per topic and consumer group, beside
 * the checkpoints, written with optimistic concurrency (compare-and-swap on an ETag).
 */
export interface SchemaStateStore {
  /** Human-readable location, for errors and logs. */
  readonly location: string;
  read(signal?: AbortSignal): Promise<{ text: string; etag: string } | null>;
  /**
   * Writes `text` if the stored document still has `etag` (null: if there is none yet). Returns the new
   * ETag, or null when another writer got there first (the caller re-reads and merges). Any other
   * failure throws, including refusals with the same status as a lost race (a lease held on the blob
   * also answers 412): those are retried with backoff and reported, not re-read at once.
   */
  write(text: string, etag: string | null, signal?: AbortSignal): Promise<string | null>;
  /** Keeps a copy of an unreadable document before it is replaced, for an operator to inspect. */
  keepAside(text: string, signal?: AbortSignal): Promise<string>;
}

export interface SchemaStateKey {
  topic: string;
  fullyQualifiedNamespace: string;
  eventHubName: string;
  consumerGroup: string;
}

/** `schema/<topic>/<namespace>/<hub>/<consumer group>.json`, lower case like BlobCheckpointStore's names. */
export function schemaStatePath(key: SchemaStateKey): string {
  const part = (s: string) => encodeURIComponent(s.toLowerCase());
  return [
    'schema',
    part(key.topic),
    part(key.fullyQualifiedNamespace),
    part(key.eventHubName),
    `${part(key.consumerGroup)}.json`,
  ].join('/');
}

const statusOf = (error: unknown) => (error as { statusCode?: number }).statusCode;

/**
 * The error codes of a lost compare-and-swap: `If-Match` no longer matching (412 ConditionNotMet) or
 * `If-None-Match: *` meeting a blob another writer created (409 BlobAlreadyExists). The same statuses
 * also mean other things (412 LeaseIdMissing while a lease is held, 409 for a blob being copied, …),
 * which re-reading cannot resolve.
 */
const CONFLICT_CODES = new Set(['ConditionNotMet', 'BlobAlreadyExists']);

export function isWriteConflict(error: unknown): boolean {
  const e = error as { statusCode?: number; code?: string; details?: { errorCode?: string } };
  const code = e.details?.errorCode ?? e.code;
  return (e.statusCode === 412 || e.statusCode === 409) && code !== undefined && CONFLICT_CODES.has(code);
}

/** In the checkpoint container (the container BlobCheckpointStore uses); ETags are the blob's own. */
export class BlobSchemaStateStore implements SchemaStateStore {
  readonly location: string;
  readonly #container: ContainerClient;
  readonly #name: string;

  constructor(container: ContainerClient, key: SchemaStateKey) {
    this.#container = container;
    this.#name = schemaStatePath(key);
    this.location = `${container.containerName}/${this.#name}`;
  }

  async read(signal?: AbortSignal) {
    try {
      const response = await this.#container
        .getBlockBlobClient(this.#name)
        .download(0, undefined, { abortSignal: signal });
      const text = (await readAll(response.readableStreamBody!)).toString('utf8');
      return { text, etag: response.etag! };
    } catch (error) {
      if (statusOf(error) === 404) return null;
      throw error;
    }
  }

  async write(text: string, etag: string | null, signal?: AbortSignal) {
    try {
      const response = await this.#container
        .getBlockBlobClient(this.#name)
        .upload(text, Buffer.byteLength(text), {
          abortSignal: signal,
          blobHTTPHeaders: { blobContentType: 'application/json' },
          conditions: etag === null ? { ifNoneMatch: '*' } : { ifMatch: etag },
        });
      return response.etag!;
    } catch (error) {
      if (isWriteConflict(error)) return null;
      throw error;
    }
  }

  async keepAside(text: string, signal?: AbortSignal) {
    const name = `${this.#name}.unreadable-${new Date().toISOString().replaceAll(':', '')}`;
    await this.#container
      .getBlockBlobClient(name)
      .upload(text, Buffer.byteLength(text), { abortSignal: signal });
    return `${this.#container.containerName}/${name}`;
  }
}

async function readAll(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk as Buffer));
  return Buffer.concat(chunks);
}

const LOCK_STALE_MS = 30_000;

/**
 * In a local folder (for the localFolder destination), under the FileCheckpointStore's root. The ETag
 * is the content's hash; compare-and-swap holds an exclusive lock file (O_EXCL) around read-compare-
 * rename, so agents sharing the folder on one machine cannot overwrite each other's widening.
 */
export class FileSchemaStateStore implements SchemaStateStore {
  readonly location: string;
  readonly #path: string;

  constructor(root: string, key: SchemaStateKey) {
    this.#path = join(root, ...schemaStatePath(key).split('/'));
    this.location = this.#path;
  }

  async read() {
    try {
      const text = await readFile(this.#path, 'utf8');
      return { text, etag: hash(text) };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw error;
    }
  }

  async write(text: string, etag: string | null, signal?: AbortSignal) {
    await mkdir(dirname(this.#path), { recursive: true });
    const release = await this.#lock(signal);
    try {
      const current = await this.read();
      if ((current?.etag ?? null) !== etag) return null;
      const temp = `${this.#path}.${randomUUID()}.tmp`;
      await writeFile(temp, text);
      await rename(temp, this.#path);
      return hash(text);
    } finally {
      await release();
    }
  }

  async keepAside(text: string) {
    const path = `${this.#path}.unreadable-${new Date().toISOString().replaceAll(':', '')}`;
    await writeFile(path, text);
    return path;
  }

  async #lock(signal?: AbortSignal): Promise<() => Promise<void>> {
    const lock = `${this.#path}.lock`;
    for (;;) {
      signal?.throwIfAborted();
      try {
        const handle = await open(lock, 'wx');
        await handle.close();
        return () => rm(lock, { force: true });
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
      // A lock left by a killed agent: nothing holds one for more than a few milliseconds.
      const seen = await stat(lock).catch(() => null);
      if (seen && Date.now() - seen.mtimeMs > LOCK_STALE_MS) await takeOverStaleLock(lock, seen);
      else await sleep(10 + Math.random() * 20);
    }
  }
}

/**
 * Removes the stale lock `seen` at `lock` unless another waiter got there first. Two waiters can both
 * find the same lock stale; removing it by name could remove the fresh lock the quicker one has
 * meanwhile taken. So the lock is renamed to a unique name (atomic: one waiter gets it) and removed
 * only if it is the very file found stale (same inode and mtime); a fresh lock caught that way is put
 * back (a hard link, which fails if yet another lock has appeared). Returns whether it removed `seen`.
 */
export async function takeOverStaleLock(lock: string, seen: Stats): Promise<boolean> {
  const aside = `${lock}.${randomUUID()}.stale`;
  try {
    await rename(lock, aside);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
  const moved = await stat(aside);
  if (moved.ino === seen.ino && moved.mtimeMs === seen.mtimeMs) {
    await rm(aside, { force: true });
    return true;
  }
  await link(aside, lock).catch(() => {});
  await rm(aside, { force: true });
  return false;
}

function hash(text: string): string {
  return `"${createHash('sha256').update(text).digest('hex').slice(0, 32)}"`;
}
