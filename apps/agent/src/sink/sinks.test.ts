import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { type Azurite, readAllBlobs, startAzurite } from '@hubcap/local-azurite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AzureBlobSink } from './azure-blob-sink.ts';
import { classifyStorageError } from './errors.ts';
import { LocalFolderSink } from './local-folder-sink.ts';

let azurite: Azurite;
beforeAll(async () => {
  azurite = await startAzurite();
});
afterAll(async () => {
  await azurite?.close();
});

const chunks = (n: number, size: number) =>
  Array.from({ length: n }, (_, i) => Buffer.alloc(size, 97 + (i % 26)));

async function azureSink(blockBytes = 64 * 1024) {
  const container = await azurite.container();
  const staging = await azurite.container();
  return {
    container,
    staging,
    sink: new AzureBlobSink({ container, stagingContainer: staging, stagingPrefix: 'staging/t', blockBytes }),
  };
}

describe('AzureBlobSink', () => {
  it('publishes a small file with one Put Blob under its final name', async () => {
    const { container, staging, sink } = await azureSink();
    const file = sink.openFile('0-1', 'application/gzip', new AbortController().signal);
    await pipeline(Readable.from(chunks(3, 1000)), file.stream);
    expect((await readAllBlobs(container)).size).toBe(0);
    await file.publish('a/b/0-1.ndjson.gz');
    const blobs = await readAllBlobs(container);
    expect([...blobs.keys()]).toEqual(['a/b/0-1.ndjson.gz']);
    expect(blobs.get('a/b/0-1.ndjson.gz')).toEqual(Buffer.concat(chunks(3, 1000)));
    expect((await readAllBlobs(staging)).size).toBe(0);
    const props = await container.getBlobClient('a/b/0-1.ndjson.gz').getProperties();
    expect(props.contentType).toBe('application/gzip');
  });

  it('stages blocks as a large file grows, then publishes it atomically by server-side copy', async () => {
    const { container, staging, sink } = await azureSink(64 * 1024);
    const file = sink.openFile('0-1', 'application/gzip', new AbortController().signal);
    const body = chunks(40, 10_000);
    await pipeline(Readable.from(body), file.stream);
    const staged = await staging.listBlobsFlat({ includeUncommitedBlobs: true }).next();
    expect(staged.value?.name).toMatch(/^staging\/t\/0-1\./);
    expect((await readAllBlobs(container)).size).toBe(0);
    await file.publish('x/0-1.ndjson.gz');
    expect((await readAllBlobs(container)).get('x/0-1.ndjson.gz')).toEqual(Buffer.concat(body));
    expect((await readAllBlobs(staging)).size).toBe(0);
    const blocks = await container.getBlockBlobClient('x/0-1.ndjson.gz').getProperties();
    expect(blocks.contentLength).toBe(400_000);
  });

  it('overwrites an existing file with the same name', async () => {
    const { container, sink } = await azureSink();
    for (const fill of [1, 2]) {
      const file = sink.openFile('0-1', 'x', new AbortController().signal);
      await pipeline(Readable.from([Buffer.alloc(10, fill)]), file.stream);
      await file.publish('same');
    }
    expect((await readAllBlobs(container)).get('same')).toEqual(Buffer.alloc(10, 2));
  });

  it('lists by prefix and leaves nothing visible for a discarded file', async () => {
    const { container, sink } = await azureSink(1024);
    const file = sink.openFile('0-1', 'x', new AbortController().signal);
    await pipeline(Readable.from(chunks(5, 1000)), file.stream);
    await file.discard();
    expect(await sink.list('')).toEqual([]);
    await container.getBlockBlobClient('f/0-00000000000000000005-00000000000000000009.avro').upload('x', 1);
    await container.getBlockBlobClient('f/0-00000000000000000050-00000000000000000059.avro').upload('x', 1);
    expect(await sink.list('f/0-00000000000000000005-')).toEqual([
      'f/0-00000000000000000005-00000000000000000009.avro',
    ]);
  });

  it('reports a missing container as a fatal, retryable condition', async () => {
    const container = azurite.service.getContainerClient('does-not-exist');
    const sink = new AzureBlobSink({ container, stagingContainer: container, stagingPrefix: 's' });
    const error = await sink.verify().catch((e: unknown) => e);
    expect(classifyStorageError(error)).toMatchObject({ kind: 'not-found', fatal: true });
  });
});

describe('LocalFolderSink', () => {
  it('writes to a staging file and renames it into place on publish', async () => {
    const root = await mkdtemp(join(tmpdir(), 'hubcap-local-sink-'));
    try {
      const sink = new LocalFolderSink(root);
      await sink.verify();
      const file = sink.openFile('0-1');
      await pipeline(Readable.from(chunks(2, 10)), file.stream);
      expect(await sink.list('a/0-')).toEqual([]);
      await file.publish('a/0-1-2.ndjson');
      expect(await readFile(join(root, 'a/0-1-2.ndjson'))).toEqual(Buffer.concat(chunks(2, 10)));
      expect(await sink.list('a/0-')).toEqual(['a/0-1-2.ndjson']);
      const discarded = sink.openFile('0-3');
      await pipeline(Readable.from(chunks(2, 10)), discarded.stream);
      await discarded.discard();
      expect(await readdir(join(root, '.hubcap-staging'))).toEqual([]);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});
