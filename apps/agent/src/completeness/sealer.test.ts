import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PATH_PRESETS, PartitionManifest, TopicMarker } from '@hubcap/shared';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createFileFormat } from '../formats/index.ts';
import { PartitionWriter } from '../ingest/partition-writer.ts';
import type { SourceEvent } from '../pipeline/event.ts';
import type { PathLayout } from '../pipeline/paths.ts';
import { newPartitionStats } from '../runtime/status.ts';
import { LocalFolderSink } from '../sink/local-folder-sink.ts';
import { PartitionSealer } from './sealer.ts';
import { WindowStore } from './window-store.ts';

const format = createFileFormat({ type: 'ndjson', compression: 'gzip', nonJson: 'deadLetter' });
const hour = 3600_000;
const base = Date.UTC(2026, 2, 7, 9, 0, 0);
const log = pino({ level: 'silent' });

const ev = (seq: number, t: number, body = JSON.stringify({ id: seq })): SourceEvent => ({
  body: Buffer.from(body),
  sequenceNumber: seq,
  offset: String(seq * 10),
  enqueuedTimeUtc: new Date(t),
});

/** Events `seqs`, one second apart from the start of the first hour. */
const atSeconds = (seqs: number[]) => seqs.map((s) => ev(s, base + s * 1000));

/** Writes events `seqs` (see atSeconds) and drains: every file is published and checkpointed. */
async function land(writer: PartitionWriter, seqs: number[]): Promise<void> {
  await writer.write(atSeconds(seqs));
  await writer.drain();
}

let root: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'hubcap-sealer-'));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

function run(template: string, partitions: string[], owned = () => true) {
  const layout: PathLayout = {
    prefix: 'lake',
    template,
    namespace: 'ns',
    hub: 'hub',
    topic: 'orders',
    extension: format.extension,
  };
  const sink = new LocalFolderSink(root);
  const store = new WindowStore(layout, sink, undefined);
  const checkpoints = new Map<string, number>();
  const writer = (partition: string, resumedFrom: number | null) => {
    const sealer = new PartitionSealer(
      { topic: 'orders', store, log, partitionIds: async () => partitions },
      partition,
      resumedFrom,
      async () => owned(),
    );
    const w = new PartitionWriter({
      partitionId: partition,
      layout,
      format,
      limits: { maxBytes: 1 << 20, maxEvents: 4, maxAgeMs: 3600_000, boundary: 'hour' },
      sink,
      log,
      stats: newPartitionStats(),
      checkpoint: async (p) => {
        checkpoints.set(partition, p.sequenceNumber);
      },
      beforeCheckpoint: (file, signal) => sealer.beforeCheckpoint(file, signal),
    });
    return { writer: w, sealer };
  };
  return { store, writer, checkpoints };
}

async function tree(): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const name of await readdir(root, { recursive: true })) {
    if (name.startsWith('.hubcap-staging') || !/\.(json|gz|ndjson)$|_SUCCESS$/.test(name)) continue;
    out[name] = (await readFile(join(root, name))).toString('base64');
  }
  return out;
}

const readJson = async (path: string) => JSON.parse(await readFile(join(root, path), 'utf8'));

describe('completeness manifests', () => {
  it('seals a window before checkpointing the next one, lists files and dead letters with checksums, marks the topic', async () => {
    const { writer } = run(PATH_PRESETS.hive, ['0', '1']);
    const p0 = writer('0', null);
    // Hour 9: 0..5, with 3 a dead letter (not JSON); hour 10: 6..7.
    await p0.writer.write([
      ...atSeconds([0, 1, 2]),
      ev(3, base + 3000, '{not json'),
      ...atSeconds([4, 5]),
      ...[6, 7].map((s) => ev(s, base + hour + s * 1000)),
    ]);
    await p0.writer.drain();
    const folder = 'lake/topic=orders/date=2026-03-07/hour=09';
    const manifest = PartitionManifest.parse(await readJson(`${folder}/_hubcap/0.manifest.json`));
    expect(manifest.window).toEqual({ start: '2026-03-07T09:00:00.000Z', end: '2026-03-07T10:00:00.000Z' });
    expect(manifest.sequences).toEqual({ firstSequence: 0, lastSequence: 5 });
    expect(manifest.events).toBe(6);
    expect(manifest.lostAtSource).toEqual([]);
    expect(manifest.files.map((f) => [f.kind, f.firstSequence, f.lastSequence, f.events])).toEqual([
      ['data', 0, 3, 3],
      ['deadLetter', 0, 3, 1],
      ['data', 4, 5, 2],
    ]);
    for (const file of manifest.files) {
      const bytes = await readFile(join(root, file.path));
      expect(file.bytes).toBe(bytes.byteLength);
      expect(file.md5).toBe(createHash('md5').update(bytes).digest('base64'));
    }
    // Hour 10 is not sealed (no later file, no idleness); no marker yet: partition 1 has not sealed hour 9.
    const names = Object.keys(await tree());
    expect(names.filter((n) => n.includes('_hubcap') || n.endsWith('_SUCCESS'))).toEqual([
      `${folder}/_hubcap/0.manifest.json`,
    ]);

    // Partition 1 had no event in hour 9; once idle past it, it seals an empty manifest and writes the marker.
    const p1 = writer('1', null);
    await p1.writer.write([ev(0, base + hour + 10)]);
    await p1.writer.drain();
    const marker = TopicMarker.parse(await readJson(`${folder}/_SUCCESS`).catch(() => null));
    expect(marker.partitions.map((p) => [p.partition, p.events])).toEqual([
      ['0', 6],
      ['1', 0],
    ]);
  });

  it('names a range retention expired as lost at source, in the window of the file after it', async () => {
    const { writer, store } = run(PATH_PRESETS.hive, ['0']);
    const p0 = writer('0', 9); // checkpoint at 9: 10..19 expired; the reader starts at 20
    await land(p0.writer, [20, 21, 22]);
    await p0.sealer.idle(base + 2 * hour, new AbortController().signal);
    const manifest = await store.readManifest('0', store.windowOf(base), new AbortController().signal);
    expect(manifest?.lostAtSource).toEqual([{ firstSequence: 10, lastSequence: 19 }]);
    expect(manifest?.sequences).toEqual({ firstSequence: 10, lastSequence: 22 });
    expect(manifest?.events).toBe(3);
  });

  it('a checkpoint older than the one the reader resumed from (another replica wrote it) is no gap', async () => {
    const { writer, store } = run(PATH_PRESETS.hive, ['0']);
    const first = writer('0', null);
    await land(first.writer, [0, 1, 2, 3, 4, 5, 6, 7]);
    // Told the checkpoint was 3, this replica reads from 8: 4..7 are in storage, not lost.
    const second = writer('0', 3);
    await land(second.writer, [8, 9]);
    await second.sealer.idle(base + 2 * hour, new AbortController().signal);
    const manifest = await store.readManifest('0', store.windowOf(base), new AbortController().signal);
    expect(manifest?.lostAtSource).toEqual([]);
    expect(manifest?.sequences).toEqual({ firstSequence: 0, lastSequence: 9 });
  });

  it('a checkpoint behind what is landed names only the range after the landed files as lost', async () => {
    const { writer, store } = run(PATH_PRESETS.hive, ['0']);
    const first = writer('0', null);
    await land(first.writer, [0, 1, 2, 3, 4, 5, 6, 7]);
    // Checkpoint 5 (an earlier run drained there); 6..7 are landed, 8..19 expired; the reader starts at 20.
    const second = writer('0', 5);
    await land(second.writer, [20, 21]);
    await second.sealer.idle(base + 2 * hour, new AbortController().signal);
    const manifest = await store.readManifest('0', store.windowOf(base), new AbortController().signal);
    expect(manifest?.lostAtSource).toEqual([{ firstSequence: 8, lastSequence: 19 }]);
    expect(manifest?.events).toBe(10);
  });

  it('a restart after a crash between the last manifest and the topic marker writes the marker', async () => {
    const { writer, store } = run(PATH_PRESETS.hive, ['0', '1']);
    const folder = 'lake/topic=orders/date=2026-03-07/hour=09';
    const p1 = writer('1', null);
    await p1.writer.write([ev(0, base), ev(1, base + hour)]);
    await p1.writer.drain();
    // Partition 0 seals hour 9 last, and the process dies before its marker is written.
    const p0 = writer('0', null);
    const put = store.put.bind(store);
    store.put = async (partition, path, bytes, signal) => {
      if (path.endsWith('_SUCCESS')) throw new Error('killed');
      return put(partition, path, bytes, signal);
    };
    await p0.writer.write([ev(0, base), ev(1, base + hour)]);
    await expect(p0.writer.drain()).rejects.toThrow('killed');
    store.put = put;
    expect(await store.readManifest('0', store.windowOf(base), new AbortController().signal)).not.toBeNull();
    expect(Object.keys(await tree())).not.toContain(`${folder}/_SUCCESS`);

    // Restarted from its checkpoint (still in hour 9: the next file was never checkpointed).
    const restarted = writer('0', 0);
    await restarted.writer.write([ev(1, base + hour)]);
    await restarted.writer.drain();
    const marker = TopicMarker.parse(await readJson(`${folder}/_SUCCESS`));
    expect(marker.partitions.map((p) => [p.partition, p.events])).toEqual([
      ['0', 1],
      ['1', 1],
    ]);
  });

  it('a restart and a second replica write the same bytes; a replica that lost the partition writes nothing', async () => {
    const events = [0, 1, 2, 3, 4, 5, 6].map((s) => ev(s, base + s * 600_000)); // 9:00 … 10:00
    const first = run(PATH_PRESETS.capture, ['0']);
    const a = first.writer('0', null);
    await a.writer.write(events);
    await a.writer.drain();
    await a.sealer.idle(base + 3 * hour, new AbortController().signal);
    const before = await tree();
    expect(Object.keys(before).filter((n) => n.includes('manifest'))).toHaveLength(2);

    // Restart from an earlier checkpoint (3): the files after it are rewritten, the windows sealed again.
    const again = run(PATH_PRESETS.capture, ['0']).writer('0', 3);
    await again.writer.write(events.slice(4));
    await again.writer.drain();
    await again.sealer.idle(base + 3 * hour, new AbortController().signal);
    expect(await tree()).toEqual(before);

    // A replica that lost the partition seals nothing, even windows that are due.
    const fenced = run(PATH_PRESETS.capture, ['0'], () => false).writer('0', 6);
    await expect(fenced.sealer.idle(base + 5 * hour, new AbortController().signal)).rejects.toThrow(
      /owned by another replica/,
    );
    expect(await tree()).toEqual(before);
  });
});
