import { createHash, randomBytes } from 'node:crypto';
import type { Dirent } from 'node:fs';
import { type FileHandle, mkdir, open, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { dirname, join, posix } from 'node:path';
import { Writable } from 'node:stream';
import type { StoredFile } from '@hubcap/shared';
import { checkedPath, type Sink, type SinkFile, STAGING_LEAF } from './sink.ts';

const STAGING_DIR = '.hubcap-staging';
/** `<staging leaf>.tmp` for files, `probe-<8 hex>` for verify()'s probe. */
const isStagingFile = (name: string) =>
  (name.endsWith('.tmp') && STAGING_LEAF.test(name.slice(0, -4))) || /^probe-[0-9a-f]{8}$/.test(name);

/** Bytes written to a temp file under the folder's staging dir; publish = fsync + rename into place. */
class LocalFile extends Writable implements SinkFile {
  readonly #root: string;
  readonly #temp: string;
  #handle: FileHandle | null = null;

  constructor(root: string, stagingName: string) {
    super({ highWaterMark: 1024 * 1024 });
    this.#root = root;
    this.#temp = join(root, STAGING_DIR, `${stagingName}.${randomBytes(6).toString('hex')}.tmp`);
  }

  get stream(): Writable {
    return this;
  }

  override _construct(done: (error?: Error | null) => void): void {
    mkdir(dirname(this.#temp), { recursive: true })
      .then(() => open(this.#temp, 'w'))
      .then((handle) => {
        this.#handle = handle;
        done();
      }, done);
  }

  override _write(chunk: Buffer, _: BufferEncoding, done: (error?: Error | null) => void): void {
    this.#handle!.write(chunk).then(() => done(), done);
  }

  override _final(done: (error?: Error | null) => void): void {
    const handle = this.#handle!;
    this.#handle = null;
    handle
      .sync()
      .then(() => handle.close())
      .then(() => done(), done);
  }

  override _destroy(error: Error | null, done: (error?: Error | null) => void): void {
    const handle = this.#handle;
    this.#handle = null;
    Promise.resolve(handle?.close())
      .catch(() => {})
      .then(
        () => done(error),
        () => done(error),
      );
  }

  async publish(path: string): Promise<void> {
    const target = join(this.#root, checkedPath(path));
    await mkdir(dirname(target), { recursive: true });
    await rename(this.#temp, target);
  }

  async discard(): Promise<void> {
    this.destroy();
    await rm(this.#temp, { force: true });
  }
}

/** Development destination: a folder on disk, same layout and names as the blob container. */
export class LocalFolderSink implements Sink {
  readonly kind = 'localFolder' as const;
  readonly location: string;
  readonly #root: string;

  constructor(root: string) {
    this.#root = root;
    this.location = root;
  }

  async verify(): Promise<void> {
    await mkdir(join(this.#root, STAGING_DIR), { recursive: true });
    const probe = join(this.#root, STAGING_DIR, `probe-${randomBytes(4).toString('hex')}`);
    const handle = await open(probe, 'w');
    await handle.close();
    await rm(probe, { force: true });
  }

  openFile(stagingName: string): SinkFile {
    return new LocalFile(this.#root, stagingName);
  }

  async list(prefix: string): Promise<string[]> {
    const folder = posix.dirname(prefix);
    const stem = posix.basename(prefix);
    let names: string[];
    try {
      names = await readdir(join(this.#root, folder));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
    return names.filter((n) => n.startsWith(stem)).map((n) => (folder === '.' ? n : `${folder}/${n}`));
  }

  /** A folder keeps no checksums: each file's MD5 is computed from its bytes. */
  async describe(prefix: string): Promise<StoredFile[]> {
    const files: StoredFile[] = [];
    const walk = async (folder: string): Promise<void> => {
      let entries: Dirent[];
      try {
        entries = await readdir(join(this.#root, folder), { withFileTypes: true });
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
        throw error;
      }
      for (const entry of entries) {
        const path = folder === '.' ? entry.name : `${folder}/${entry.name}`;
        if (!path.startsWith(prefix) && !prefix.startsWith(`${path}/`)) continue;
        if (entry.isDirectory()) {
          if (entry.name !== STAGING_DIR) await walk(path);
        } else if (entry.isFile() && path.startsWith(prefix)) {
          const bytes = await readFile(join(this.#root, path));
          files.push({
            path,
            bytes: bytes.byteLength,
            md5: createHash('md5').update(bytes).digest('base64'),
          });
        }
      }
    };
    await walk('.');
    return files.sort((a, b) => (a.path < b.path ? -1 : 1));
  }

  async read(path: string): Promise<Buffer | null> {
    return readFile(join(this.#root, checkedPath(path))).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return null;
      throw error;
    });
  }

  /**
   * Removes temp files a killed agent left in the staging dir. A live file's mtime moves with every
   * write, so "not written since `olderThan`" means abandoned (a writer stalled that long would lose
   * its temp file: its publish fails and nothing partial reaches the folder).
   */
  async sweepStaging(olderThan: Date): Promise<string[]> {
    const dir = join(this.#root, STAGING_DIR);
    let names: string[];
    try {
      names = await readdir(dir);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
    const removed: string[] = [];
    for (const name of names) {
      if (!isStagingFile(name)) continue;
      const path = join(dir, name);
      const info = await stat(path).catch(() => null);
      if (!info?.isFile() || info.mtimeMs >= olderThan.getTime()) continue;
      await rm(path, { force: true });
      removed.push(posix.join(STAGING_DIR, name));
    }
    return removed;
  }

  async close(): Promise<void> {}
}
