import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
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

/** A verified LocalFolderSink on `subfolder` of a fresh temporary folder, removed afterwards. */
async function withLocalSink(
  test: (sink: LocalFolderSink, root: string, parent: string) => Promise<void>,
  subfolder = '',
): Promise<void> {
  const parent = await mkdtemp(join(tmpdir(), 'hubcap-local-sink-'));
  try {
    const root = join(parent, subfolder);
    const sink = new LocalFolderSink(root);
    await sink.verify();
    await test(sink, root, parent);
  } finally {
    await rm(parent, { recursive: true, force: true });
  }
}

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

  it('sets Content-MD5 on small and copied files, so a listing describes each file with its checksum', async () => {
    const { sink } = await azureSink(64 * 1024);
    const small = Buffer.concat(chunks(3, 1000));
    const large = Buffer.concat(chunks(40, 10_000));
    for (const [name, body] of [
      ['w/small', small],
      ['w/large', large],
    ] as const) {
      const file = sink.openFile('0-1', 'x', new AbortController().signal);
      await pipeline(Readable.from([body]), file.stream);
      await file.publish(name);
    }
    const md5 = (b: Buffer) => createHash('md5').update(b).digest('base64');
    expect(await sink.describe('w/')).toEqual([
      { path: 'w/large', bytes: large.byteLength, md5: md5(large) },
      { path: 'w/small', bytes: small.byteLength, md5: md5(small) },
    ]);
    expect(await sink.read('w/small')).toEqual(small);
    expect(await sink.read('w/none')).toBeNull();
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

  it('sweeps only this topic’s staging blobs older than the cutoff, committed or not; lake files never', async () => {
    const { container, staging, sink } = await azureSink();
    const oldCommitted = 'staging/t/0-00000000000000000010.0123456789ab';
    const oldUncommitted = 'staging/t/1-00000000000000000020-deadletter.0123456789ac';
    const otherTopic = 'staging/t2/0-00000000000000000010.0123456789ad';
    const notStaging = 'staging/t/notes.txt';
    const checkpoint = 'ns/hub/$default/checkpoint/0';
    for (const name of [oldCommitted, otherTopic, notStaging, checkpoint])
      await staging.getBlockBlobClient(name).upload('x', 1);
    await staging.getBlockBlobClient(oldUncommitted).stageBlock(btoa('b-000000'), Buffer.from('y'), 1);
    const lake = 'staging/t/0-00000000000000000010.0123456789ae'; // a lake file named like staging
    await container.getBlockBlobClient(lake).upload('z', 1);
    // Last-Modified has one-second resolution: the fresh blob is written in a later second.
    await sleep(1100);
    const fresh = sink.openFile('0-00000000000000000030', 'x', new AbortController().signal);
    await pipeline(Readable.from(chunks(2, 40_000)), fresh.stream); // staged, not yet published
    const listed = await staging
      .listBlobsFlat({ prefix: 'staging/t/0-00000000000000000030.', includeUncommitedBlobs: true })
      .next();
    const freshName = listed.value!.name;
    const cutoff = listed.value!.properties.lastModified;

    const removed = await sink.sweepStaging(cutoff);
    expect(removed.sort()).toEqual([oldCommitted, oldUncommitted].sort());
    const left: string[] = [];
    for await (const b of staging.listBlobsFlat({ includeUncommitedBlobs: true })) left.push(b.name);
    expect(left.sort()).toEqual([checkpoint, freshName, notStaging, otherTopic].sort());
    expect([...(await readAllBlobs(container)).keys()]).toEqual([lake]);
    // The fresh file still publishes.
    await fresh.publish('out/0-30-31.ndjson');
    expect((await readAllBlobs(container)).get('out/0-30-31.ndjson')?.byteLength).toBe(80_000);
  });

  it('refuses to publish a name that could leave the container or prefix', async () => {
    const { container, sink } = await azureSink();
    const file = sink.openFile('0-1', 'application/x-ndjson', new AbortController().signal);
    await pipeline(Readable.from(chunks(1, 10)), file.stream);
    await expect(file.publish('prefix/../../victim/0-1-2.ndjson')).rejects.toThrow(/outside the destination/);
    await file.discard();
    expect(await readAllBlobs(container)).toEqual(new Map());
  });

  it('reports a missing container as a fatal, retryable condition', async () => {
    const container = azurite.service.getContainerClient('does-not-exist');
    const sink = new AzureBlobSink({ container, stagingContainer: container, stagingPrefix: 's' });
    const error = await sink.verify().catch((e: unknown) => e);
    expect(classifyStorageError(error)).toMatchObject({ kind: 'not-found', fatal: true });
  });
});

describe('LocalFolderSink', () => {
  it('refuses to publish a name that leaves its folder, and writes nothing outside it', async () => {
    await withLocalSink(async (sink, _, parent) => {
      for (const name of ['../../x/0-1-2.ndjson', '../victim', '/abs/0-1-2.ndjson', 'a//0-1-2.ndjson']) {
        const file = sink.openFile('0-1');
        await pipeline(Readable.from(chunks(1, 10)), file.stream);
        await expect(file.publish(name), name).rejects.toThrow(/outside the destination/);
        await file.discard();
      }
      expect(await readdir(parent)).toEqual(['lake']);
    }, 'lake');
  });

  it('writes to a staging file and renames it into place on publish', async () => {
    await withLocalSink(async (sink, root) => {
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
    });
  });

  it('sweeps temp files not written since the cutoff, and nothing else', async () => {
    await withLocalSink(async (sink, root) => {
      const dir = join(root, '.hubcap-staging');
      const old = '0-00000000000000000010.0123456789ab.tmp';
      const other = 'keep-me.tmp';
      await writeFile(join(dir, old), 'x');
      await writeFile(join(dir, other), 'x');
      await mkdir(join(root, 'lake'), { recursive: true });
      await writeFile(join(root, 'lake', '0-00000000000000000010.0123456789ab.tmp'), 'lake');
      const past = new Date(Date.now() - 3_600_000);
      for (const p of [
        join(dir, old),
        join(dir, other),
        join(root, 'lake', '0-00000000000000000010.0123456789ab.tmp'),
      ])
        await utimes(p, past, past);
      const fresh = sink.openFile('1-00000000000000000020');
      await pipeline(Readable.from(chunks(2, 10)), fresh.stream);
      const cutoff = new Date(Date.now() - 60_000);

      expect(await sink.sweepStaging(cutoff)).toEqual([`.hubcap-staging/${old}`]);
      const left = await readdir(dir);
      expect(left).toContain(other);
      expect(left.filter((n) => n.startsWith('1-00000000000000000020.'))).toHaveLength(1);
      expect((await stat(join(root, 'lake', '0-00000000000000000010.0123456789ab.tmp'))).isFile()).toBe(true);
      await fresh.publish('a/1-20-21.ndjson');
      expect(await readFile(join(root, 'a/1-20-21.ndjson'))).toEqual(Buffer.concat(chunks(2, 10)));
    });
  });
});
