import { createHash, randomBytes } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import type { TokenCredential } from '@azure/identity';
import {
  BlobSASPermissions,
  BlobServiceClient,
  type BlockBlobClient,
  type ContainerClient,
  type HttpAuthorization,
  type StoragePipelineOptions,
  StorageRetryPolicyType,
  StorageSharedKeyCredential,
} from '@azure/storage-blob';
import type { StoredFile } from '@hubcap/shared';
import { classifyStorageError, type StorageErrorInfo } from './errors.ts';
import { retryStorage } from './retry.ts';
import {
  checkedPath,
  type Sink,
  type SinkFile,
  type SinkObserver,
  STAGING_LEAF,
  silentObserver,
} from './sink.ts';

/** 4 MiB blocks: 64 requests for a 256 MiB file, and at most 12 MiB per partition in flight. */
export const DEFAULT_BLOCK_BYTES = 4 * 1024 * 1024;
/** Copy Blob From URL (synchronous, atomic) accepts sources up to 256 MiB. */
const SYNC_COPY_LIMIT = 256 * 1024 * 1024;
const COPY_RANGE = 100 * 1024 * 1024;
/** Blocks of one file uploading at the same time while the next one fills. */
const MAX_STAGING = 2;

/** The SDK retries each request (throttling, 5xx, timeouts) before our own outer retry loop. */
export const STORAGE_PIPELINE_OPTIONS: StoragePipelineOptions = {
  retryOptions: {
    retryPolicyType: StorageRetryPolicyType.EXPONENTIAL,
    maxTries: 5,
    retryDelayInMs: 500,
    maxRetryDelayInMs: 15_000,
    tryTimeoutInMs: 120_000,
  },
  keepAliveOptions: { enable: true },
};

export type StorageCredentials =
  | { kind: 'connectionString'; connectionString: string }
  | { kind: 'token'; accountUrl: string; credential: TokenCredential };

export function blobServiceClient(credentials: StorageCredentials): BlobServiceClient {
  return credentials.kind === 'connectionString'
    ? BlobServiceClient.fromConnectionString(credentials.connectionString, STORAGE_PIPELINE_OPTIONS)
    : new BlobServiceClient(credentials.accountUrl, credentials.credential, STORAGE_PIPELINE_OPTIONS);
}

/**
 * Makes sure a container the agent needs exists: it creates a missing one when `create` allows (the
 * default), otherwise, or when its identity may not create containers, it fails with a message that
 * names the container and says what to do.
 */
export async function ensureContainer(
  container: ContainerClient,
  role: 'destination' | 'checkpoint',
  create: boolean,
  signal?: AbortSignal,
): Promise<void> {
  if (await container.exists({ abortSignal: signal })) return;
  const missing = `${role} container "${container.containerName}" does not exist in storage account "${container.accountName}"`;
  if (!create) {
    throw new Error(`${missing}: create it, or let the agent create it (HUBCAP_CREATE_CONTAINERS=true)`);
  }
  try {
    await container.createIfNotExists({ abortSignal: signal });
  } catch (error) {
    const info = classifyStorageError(error);
    if (info.kind !== 'auth') throw error;
    throw new Error(
      `${missing} and the agent may not create it (${info.message}): create the container, ` +
        "or give the agent's identity the right to create containers (e.g. the Storage Blob Data Contributor role)",
    );
  }
}

/** Operations on staging blobs, which live in the checkpoint container. */
const STAGING_OPERATIONS = new Set(['stageBlock', 'commitBlockList']);

export interface AzureBlobSinkOptions {
  /** Container of the lake files. */
  container: ContainerClient;
  /** Container for staging blobs (the checkpoint container: same account, invisible to lake readers). */
  stagingContainer: ContainerClient;
  /** Folder for staging blobs inside the staging container, e.g. `staging/<topic>`. */
  stagingPrefix: string;
  /** For OAuth accounts: authorizes the server-side copy's read of the staging blob. */
  tokenCredential?: TokenCredential;
  blockBytes?: number;
  observer?: SinkObserver;
}

/**
 * A file written as block blobs. Bytes are buffered up to one block; a file that stays within one block
 * is published with a single Put Blob under its final name. A larger file stages 4 MiB blocks on a
 * staging blob as it grows (memory stays bounded whatever the segment size), commits it with one
 * commitBlockList, then publishes it with a server-side copy (Copy Blob From URL, atomic; or Put Block
 * From URL ranges + commitBlockList beyond 256 MiB) — the final name appears complete or not at all.
 * Block ids carry a per-file nonce, so two attempts at the same file never mix blocks.
 */
class BlockBlobFile extends Writable implements SinkFile {
  readonly #sink: AzureBlobSink;
  readonly #staging: BlockBlobClient;
  readonly #contentType: string;
  readonly #signal: AbortSignal;
  readonly #nonce = randomBytes(8).toString('hex');
  #chunks: Buffer[] = [];
  #buffered = 0;
  #total = 0;
  readonly #blockIds: string[] = [];
  #inflight: Promise<void>[] = [];
  /** Content-MD5 of the whole file, set on the published blob so that readers can check it. */
  readonly #md5 = createHash('md5');

  constructor(sink: AzureBlobSink, staging: BlockBlobClient, contentType: string, signal: AbortSignal) {
    super({ highWaterMark: 1024 * 1024 });
    this.#sink = sink;
    this.#staging = staging;
    this.#contentType = contentType;
    this.#signal = signal;
  }

  get stream(): Writable {
    return this;
  }

  /** The buffered chunks as a request body, uncopied: each attempt (retries included) streams them anew. */
  #take(): { body: () => Readable; length: number } {
    const chunks = this.#chunks;
    const length = this.#buffered;
    this.#chunks = [];
    this.#buffered = 0;
    return { body: () => Readable.from(chunks, { objectMode: false }), length };
  }

  /** Starts staging the buffered bytes as the next block; up to MAX_STAGING blocks upload at once. */
  #stage(): Promise<void> {
    const { body, length } = this.#take();
    const id = blockId(this.#nonce, this.#blockIds.length);
    this.#blockIds.push(id);
    const staged = this.#sink
      .retry('stageBlock', this.#signal, (abortSignal) =>
        this.#staging.stageBlock(id, body, length, { abortSignal }),
      )
      .then(() => {});
    staged.catch(() => {});
    this.#inflight.push(staged);
    // Every promise stays in #inflight until #settle, so no failure goes unobserved.
    const oldest = this.#inflight[this.#inflight.length - MAX_STAGING];
    return oldest ?? Promise.resolve();
  }

  async #settle(): Promise<void> {
    const inflight = this.#inflight.splice(0);
    await Promise.all(inflight);
  }

  override _write(chunk: Buffer, _: BufferEncoding, done: (error?: Error | null) => void): void {
    this.#chunks.push(chunk);
    this.#md5.update(chunk);
    this.#buffered += chunk.byteLength;
    this.#total += chunk.byteLength;
    if (this.#buffered < this.#sink.blockBytes) {
      done();
      return;
    }
    this.#stage().then(() => done(), done);
  }

  override _final(done: (error?: Error | null) => void): void {
    if (this.#blockIds.length > 0 && this.#buffered > 0) this.#stage().catch(() => {});
    this.#settle().then(() => done(), done);
  }

  override _destroy(error: Error | null, done: (error?: Error | null) => void): void {
    // A finished stream keeps its last buffer for publish(); an aborted one frees it.
    if (error || !this.writableFinished) {
      this.#chunks = [];
      this.#buffered = 0;
    }
    done(error);
  }

  async publish(path: string): Promise<void> {
    const target = this.#sink.container.getBlockBlobClient(checkedPath(path));
    const blobHTTPHeaders = { blobContentType: this.#contentType, blobContentMD5: this.#md5.copy().digest() };
    if (this.#blockIds.length === 0) {
      const { body, length } = this.#take();
      await this.#sink.retry('upload', this.#signal, (abortSignal) =>
        target.upload(body, length, { abortSignal, blobHTTPHeaders }),
      );
      return;
    }
    await this.#sink.retry('commitBlockList', this.#signal, (abortSignal) =>
      this.#staging.commitBlockList(this.#blockIds, { abortSignal, blobHTTPHeaders }),
    );
    const source = await this.#sink.copySource(this.#staging);
    if (this.#total <= SYNC_COPY_LIMIT) {
      await this.#sink.retry('copy', this.#signal, (abortSignal) =>
        target.syncCopyFromURL(source.url, { abortSignal, sourceAuthorization: source.authorization }),
      );
    } else {
      const ids: string[] = [];
      for (let offset = 0; offset < this.#total; offset += COPY_RANGE) {
        const id = blockId(this.#nonce, ids.length);
        const count = Math.min(COPY_RANGE, this.#total - offset);
        await this.#sink.retry('stageBlockFromURL', this.#signal, (abortSignal) =>
          target.stageBlockFromURL(id, source.url, offset, count, {
            abortSignal,
            sourceAuthorization: source.authorization,
          }),
        );
        ids.push(id);
      }
      await this.#sink.retry('commitCopy', this.#signal, (abortSignal) =>
        target.commitBlockList(ids, { abortSignal, blobHTTPHeaders }),
      );
    }
    await this.#staging.deleteIfExists().catch(() => {});
  }

  async discard(): Promise<void> {
    this.destroy();
    this.#chunks = [];
    this.#buffered = 0;
    // Uncommitted blocks expire on their own; a committed staging blob is removed.
    if (this.#blockIds.length > 0) await this.#staging.deleteIfExists().catch(() => {});
  }
}

function blockId(nonce: string, index: number): string {
  return Buffer.from(`${nonce}-${String(index).padStart(6, '0')}`).toString('base64');
}

export class AzureBlobSink implements Sink {
  readonly kind = 'azureBlob' as const;
  readonly location: string;
  readonly container: ContainerClient;
  readonly blockBytes: number;
  readonly #staging: ContainerClient;
  readonly #stagingPrefix: string;
  readonly #observer: SinkObserver;
  readonly #tokenCredential: TokenCredential | undefined;

  constructor(options: AzureBlobSinkOptions) {
    this.container = options.container;
    this.#staging = options.stagingContainer;
    this.#stagingPrefix = options.stagingPrefix.replace(/\/+$/, '');
    this.blockBytes = options.blockBytes ?? DEFAULT_BLOCK_BYTES;
    this.#observer = options.observer ?? silentObserver;
    this.#tokenCredential = options.tokenCredential;
    this.location = `${options.container.accountName}/${options.container.containerName}`;
  }

  retry<T>(
    operation: string,
    signal: AbortSignal | undefined,
    fn: (s: AbortSignal | undefined) => Promise<T>,
  ) {
    return retryStorage(operation, fn, {
      signal,
      onError: (info, attempt) => this.#observer.onError(operation, this.#explain(operation, info), attempt),
      onSuccess: () => this.#observer.onSuccess(operation),
    });
  }

  /** A container deleted while the agent runs: say which one, and what to do. */
  #explain(operation: string, info: StorageErrorInfo): StorageErrorInfo {
    if (info.kind !== 'not-found') return info;
    const [role, container] = STAGING_OPERATIONS.has(operation)
      ? ['checkpoint', this.#staging]
      : ['destination', this.container];
    const message = `${role} container "${container.containerName}" does not exist in storage account "${container.accountName}" (${info.message}): create it again, or restart the agent, which creates missing containers`;
    return { ...info, message };
  }

  /** URL + authorization with which the service may read a staging blob for a server-side copy. */
  async copySource(blob: BlockBlobClient): Promise<{ url: string; authorization?: HttpAuthorization }> {
    if (blob.credential instanceof StorageSharedKeyCredential) {
      const url = await blob.generateSasUrl({
        permissions: BlobSASPermissions.parse('r'),
        expiresOn: new Date(Date.now() + 60 * 60 * 1000),
      });
      return { url };
    }
    if (!this.#tokenCredential) return { url: blob.url };
    const token = await this.#tokenCredential.getToken('https://storage.azure.com/.default');
    return { url: blob.url, authorization: { scheme: 'Bearer', value: token?.token ?? '' } };
  }

  async verify(signal?: AbortSignal): Promise<void> {
    await this.container.getProperties({ abortSignal: signal });
    await this.#staging.getProperties({ abortSignal: signal });
  }

  openFile(stagingName: string, contentType: string, signal: AbortSignal): SinkFile {
    const name = `${this.#stagingPrefix}/${stagingName}.${randomBytes(6).toString('hex')}`;
    return new BlockBlobFile(this, this.#staging.getBlockBlobClient(name), contentType, signal);
  }

  async list(prefix: string, signal?: AbortSignal): Promise<string[]> {
    return this.retry(`list`, signal, async (abortSignal) => {
      const names: string[] = [];
      for await (const blob of this.container.listBlobsFlat({ prefix, abortSignal })) names.push(blob.name);
      return names;
    });
  }

  async describe(prefix: string, signal?: AbortSignal): Promise<StoredFile[]> {
    return this.retry('list', signal, async (abortSignal) => {
      const files: StoredFile[] = [];
      for await (const blob of this.container.listBlobsFlat({ prefix, abortSignal })) {
        const md5 = blob.properties.contentMD5;
        files.push({
          path: blob.name,
          bytes: blob.properties.contentLength ?? 0,
          md5: md5 ? Buffer.from(md5).toString('base64') : null,
        });
      }
      return files;
    });
  }

  async read(path: string, signal?: AbortSignal): Promise<Buffer | null> {
    const blob = this.container.getBlockBlobClient(checkedPath(path));
    return this.retry('read', signal, (abortSignal) =>
      blob.downloadToBuffer(0, undefined, { abortSignal }).catch((error: { statusCode?: number }) => {
        if (error.statusCode === 404) return null;
        throw error;
      }),
    );
  }

  /**
   * Deletes staging blobs of this topic (`<stagingPrefix>/<staging leaf>`) last touched before
   * `olderThan`: committed ones a kill left between commit and publish (kept forever otherwise) and
   * uncommitted ones a kill left while the file grew (the service drops those only after a week).
   * Age is the newer of Creation-Time and Last-Modified (staging a block need not move either), so a
   * caller's threshold must cover a live file's whole life, from first block to publish.
   */
  async sweepStaging(olderThan: Date, signal?: AbortSignal): Promise<string[]> {
    const prefix = `${this.#stagingPrefix}/`;
    const removed: string[] = [];
    for await (const blob of this.#staging.listBlobsFlat({
      prefix,
      includeUncommitedBlobs: true,
      abortSignal: signal,
    })) {
      if (!STAGING_LEAF.test(blob.name.slice(prefix.length))) continue;
      const touched = Math.max(
        blob.properties.lastModified.getTime(),
        blob.properties.createdOn?.getTime() ?? 0,
      );
      if (touched >= olderThan.getTime()) continue;
      if (await this.#deleteStaging(blob.name, olderThan, signal)) removed.push(blob.name);
    }
    return removed;
  }

  async #deleteStaging(name: string, olderThan: Date, signal?: AbortSignal): Promise<boolean> {
    const blob = this.#staging.getBlockBlobClient(name);
    const changed = (error: unknown) => {
      const status = (error as { statusCode?: number }).statusCode;
      if (status === 409 || status === 412) return false;
      throw error;
    };
    // Conditional on the server's own clock: a blob committed after the cutoff is left alone.
    const deleted = await blob
      .deleteIfExists({ abortSignal: signal, conditions: { ifUnmodifiedSince: olderThan } })
      .then((r) => r.succeeded, changed);
    if (deleted) return true;
    // Where a blob with only uncommitted blocks does not count as existing for Delete Blob, an empty
    // Put Blob (allowed only while nothing is committed under the name) discards its blocks; then
    // that empty blob is deleted.
    try {
      const put = await blob.upload('', 0, { abortSignal: signal, conditions: { ifNoneMatch: '*' } });
      const again = await blob.deleteIfExists({ abortSignal: signal, conditions: { ifMatch: put.etag } });
      return again.succeeded;
    } catch (error) {
      return changed(error);
    }
  }

  async close(): Promise<void> {}
}
