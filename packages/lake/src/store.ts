import { createHash } from 'node:crypto';
import { createReadStream, type Dirent } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { ContainerClient } from '@azure/storage-blob';
import type { StoredFile } from '@hubcap/shared';
import { STORAGE_IDLE_MS, watchdog } from './capture/scan.ts';

/** What verify reads: a listing with sizes and checksums, and files' bytes. */
export interface LakeStore {
  readonly location: string;
  /** Every file whose name starts with `prefix`, sorted by name. */
  list(prefix: string): Promise<StoredFile[]>;
  read(path: string): Promise<Buffer | null>;
  /** A file's bytes and when it was last written, or null when it does not exist. */
  get(path: string): Promise<{ bytes: Buffer; modifiedAt: Date } | null>;
  /** A file's bytes as a stream (for files of any size, like Capture's), or null when it does not exist. */
  stream(path: string): Promise<Readable | null>;
}

const md5 = (bytes: Buffer) => createHash('md5').update(bytes).digest('base64');

/**
 * A blob container: sizes and Content-MD5 come from the listing. Storage that stops answering (no page
 * of a listing, no bytes of a file for `idleMs`) ends the call with a StorageUnreachableError.
 */
export class BlobStore implements LakeStore {
  readonly location: string;
  readonly #container: ContainerClient;
  readonly #idleMs: number;

  constructor(container: ContainerClient, idleMs = STORAGE_IDLE_MS) {
    this.#container = container;
    this.#idleMs = idleMs;
    this.location = `${container.accountName}/${container.containerName}`;
  }

  async list(prefix: string): Promise<StoredFile[]> {
    const files: StoredFile[] = [];
    const watch = watchdog(`cannot list ${this.location}/${prefix}`, this.#idleMs);
    try {
      const pages = this.#container
        .listBlobsFlat({ prefix: prefix || undefined, abortSignal: watch.signal })
        .byPage();
      for await (const page of pages) {
        watch.touch();
        for (const blob of page.segment.blobItems) {
          const hash = blob.properties.contentMD5;
          files.push({
            path: blob.name,
            bytes: blob.properties.contentLength ?? 0,
            md5: hash ? Buffer.from(hash).toString('base64') : null,
          });
        }
      }
    } catch (error) {
      if (watch.signal.aborted) throw watch.signal.reason;
      // The SDK's text carries a request id and a time: name the container instead.
      if ((error as { code?: string }).code === 'ContainerNotFound')
        throw new Error(`container "${this.#container.containerName}" does not exist in ${this.location}`);
      throw error;
    } finally {
      watch.stop();
    }
    return files.sort((a, b) => (a.path < b.path ? -1 : 1));
  }

  async read(path: string): Promise<Buffer | null> {
    return (await this.get(path))?.bytes ?? null;
  }

  async stream(path: string): Promise<Readable | null> {
    const watch = watchdog(`cannot read ${path}`, this.#idleMs);
    try {
      const response = await this.#container
        .getBlockBlobClient(path)
        .download(0, undefined, { abortSignal: watch.signal });
      const body = response.readableStreamBody as Readable | undefined;
      if (!body) {
        watch.stop();
        return null;
      }
      // The watch lasts as long as the reader reads: a body that stops mid-file ends in a plain error.
      body.on('data', watch.touch).once('close', watch.stop);
      watch.signal.addEventListener('abort', () => body.destroy(watch.signal.reason as Error));
      return body;
    } catch (error) {
      watch.stop();
      if (watch.signal.aborted) throw watch.signal.reason;
      if ((error as { statusCode?: number }).statusCode === 404) return null;
      throw error;
    }
  }

  async get(path: string): Promise<{ bytes: Buffer; modifiedAt: Date } | null> {
    try {
      const response = await this.#container.getBlockBlobClient(path).download();
      const chunks: Buffer[] = [];
      for await (const chunk of response.readableStreamBody ?? []) chunks.push(chunk as Buffer);
      return { bytes: Buffer.concat(chunks), modifiedAt: response.lastModified ?? new Date(0) };
    } catch (error) {
      if ((error as { statusCode?: number }).statusCode === 404) return null;
      throw error;
    }
  }
}

/** A local folder (the agent's local-folder destination): checksums are computed from the bytes. */
export class FolderStore implements LakeStore {
  readonly location: string;

  constructor(root: string) {
    this.location = root;
  }

  async list(prefix: string): Promise<StoredFile[]> {
    const files: StoredFile[] = [];
    const walk = async (folder: string): Promise<void> => {
      let entries: Dirent[];
      try {
        entries = await readdir(join(this.location, folder), { withFileTypes: true });
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
        throw error;
      }
      for (const entry of entries) {
        const path = folder ? `${folder}/${entry.name}` : entry.name;
        if (entry.isDirectory() && entry.name !== '.hubcap-staging') await walk(path);
        else if (entry.isFile() && path.startsWith(prefix)) {
          const bytes = await readFile(join(this.location, path));
          files.push({ path, bytes: bytes.byteLength, md5: md5(bytes) });
        }
      }
    };
    await walk('');
    return files.sort((a, b) => (a.path < b.path ? -1 : 1));
  }

  async read(path: string): Promise<Buffer | null> {
    return (await this.get(path))?.bytes ?? null;
  }

  async stream(path: string): Promise<Readable | null> {
    const stream = createReadStream(join(this.location, path));
    // Opening fails asynchronously: wait for it, so a missing file is null like the blob store's.
    return new Promise((resolve, reject) => {
      stream.once('open', () => resolve(stream));
      stream.once('error', (error: NodeJS.ErrnoException) =>
        error.code === 'ENOENT' ? resolve(null) : reject(error),
      );
    });
  }

  async get(path: string): Promise<{ bytes: Buffer; modifiedAt: Date } | null> {
    const file = join(this.location, path);
    try {
      const [bytes, info] = await Promise.all([readFile(file), stat(file)]);
      return { bytes, modifiedAt: info.mtime };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw error;
    }
  }
}

/**
 * The store a command-line argument names: an Azure Storage connection string (with a container), a
 * container URL (with a SAS token when needed), or a folder.
 */
export function openStore(location: string, container?: string): LakeStore {
  if (/AccountName=|UseDevelopmentStorage=true|BlobEndpoint=/i.test(location)) {
    if (!container) throw new Error('--container is required with a connection string');
    return new BlobStore(new ContainerClient(location, container));
  }
  if (/^https?:\/\//i.test(location)) return new BlobStore(new ContainerClient(location));
  return new FolderStore(location);
}
