import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import { PATH_PRESETS } from '@hubcap/shared';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { decodeNdjson, readParquet } from '../../test/read-back.ts';
import { UnwritableError } from '../formats/format.ts';
import { createFileFormat, type FileFormat } from '../formats/index.ts';
import { DuckDbEngine } from '../formats/parquet/duckdb.ts';
import { SchemaTracker } from '../formats/parquet/schema-tracker.ts';
import type { SourceEvent } from '../pipeline/event.ts';
import type { PathLayout } from '../pipeline/paths.ts';
import type { SegmentLimits } from '../pipeline/segment-policy.ts';
import { newPartitionStats } from '../runtime/status.ts';
import { LocalFolderSink } from '../sink/local-folder-sink.ts';
import {
  type FlushedFile,
  PartitionWriter,
  type PartitionWriterOptions,
  type UnwritableSegment,
} from './partition-writer.ts';
import type { Quarantine } from './quarantine.ts';

const format = createFileFormat({ type: 'ndjson', compression: 'gzip' });
const layout: PathLayout = {
  prefix: 'p',
  template: PATH_PRESETS.hive,
  namespace: 'ns',
  hub: 'hub',
  topic: 'orders',
  extension: format.extension,
};
const limits: SegmentLimits = { maxBytes: 1 << 20, maxEvents: 10, maxAgeMs: 60_000, boundary: 'hour' };
const base = Date.UTC(2026, 2, 7, 9, 0, 0);
const ev = (seq: number, t = base + seq * 1000): SourceEvent => ({
  body: Buffer.from(JSON.stringify({ id: seq })),
  sequenceNumber: seq,
  offset: String(seq * 10),
  enqueuedTimeUtc: new Date(t),
});
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => ev(from + i));

let root: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'hubcap-writer-'));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

async function files(): Promise<string[]> {
  const dir = join(root, 'p/topic=orders/date=2026-03-07');
  const out: string[] = [];
  for (const hour of existsSync(dir) ? await readdir(dir) : []) {
    for (const name of await readdir(join(dir, hour))) out.push(`${hour}/${name}`);
  }
  return out.sort();
}

function writer(overrides: Partial<PartitionWriterOptions> = {}, checkpoints: number[] = []) {
  const sink = new LocalFolderSink(root);
  let now = 0;
  const w = new PartitionWriter({
    partitionId: '0',
    layout,
    format,
    limits,
    sink,
    log: pino({ level: 'silent' }),
    stats: newPartitionStats(),
    now: () => now,
    async checkpoint(position) {
      // A checkpoint is only ever written after its file is visible.
      const all = await files();
      expect(
        all.some((f) => f.endsWith(`-${String(position.sequenceNumber).padStart(20, '0')}.ndjson.gz`)),
      ).toBe(true);
      checkpoints.push(position.sequenceNumber);
    },
    ...overrides,
  });
  return { w, advance: (ms: number) => (now += ms) };
}

describe('PartitionWriter', () => {
  it('cuts files by max events and checkpoints each after it is published, in order', async () => {
    const checkpoints: number[] = [];
    const { w } = writer({}, checkpoints);
    await w.write(range(0, 24));
    await w.drain();
    expect(await files()).toEqual([
      'hour=09/0-00000000000000000000-00000000000000000009.ndjson.gz',
      'hour=09/0-00000000000000000010-00000000000000000019.ndjson.gz',
      'hour=09/0-00000000000000000020-00000000000000000024.ndjson.gz',
    ]);
    expect(checkpoints).toEqual([9, 19, 24]);
    const lines = decodeNdjson(
      'x.gz',
      await readFile(
        join(
          root,
          'p/topic=orders/date=2026-03-07/hour=09/0-00000000000000000010-00000000000000000019.ndjson.gz',
        ),
      ),
    );
    expect(lines.map((l) => JSON.parse(l).id)).toEqual(range(10, 19).map((e) => e.sequenceNumber));
  });

  it('cuts at the hour boundary of the path and by age', async () => {
    const checkpoints: number[] = [];
    const { w, advance } = writer({}, checkpoints);
    await w.write([ev(0, base + 3_599_000), ev(1, base + 3_600_000), ev(2, base + 3_601_000)]);
    advance(61_000);
    await w.write([]);
    await w.drain();
    expect(await files()).toEqual([
      'hour=09/0-00000000000000000000-00000000000000000000.ndjson.gz',
      'hour=10/0-00000000000000000001-00000000000000000002.ndjson.gz',
    ]);
    expect(checkpoints).toEqual([0, 2]);
  });

  it('after a crash between publish and checkpoint, a replay rewrites the same files even if it would cut elsewhere', async () => {
    // First run: files 0–9 and 10–19 published, checkpoint lost (the process died).
    const first = writer({ checkpoint: async () => {} });
    await first.w.write(range(0, 19));
    await first.w.drain();
    const before = await files();
    const bytes = await Promise.all(
      before.map((f) => readFile(join(root, 'p/topic=orders/date=2026-03-07', f))),
    );

    // Replay from the (old) checkpoint with different timing: age would cut after 3 events.
    const checkpoints: number[] = [];
    const second = writer({ limits: { ...limits, maxEvents: 1000, maxAgeMs: 1 } }, checkpoints);
    for (let seq = 0; seq <= 25; seq += 3) {
      await second.w.write(range(seq, Math.min(seq + 2, 25)));
      second.advance(10);
    }
    await second.w.drain();
    const after = await files();
    expect(after.slice(0, 2)).toEqual(before);
    const rewritten = await Promise.all(
      before.map((f) => readFile(join(root, 'p/topic=orders/date=2026-03-07', f))),
    );
    expect(rewritten.map((b) => decodeNdjson('x.gz', b))).toEqual(bytes.map((b) => decodeNdjson('x.gz', b)));
    expect(checkpoints.slice(0, 2)).toEqual([9, 19]);
    // After the boundary files, normal (age-based) cutting resumes; every event is in exactly one file.
    const all = (
      await Promise.all(
        after.map(async (f) =>
          decodeNdjson('x.gz', await readFile(join(root, 'p/topic=orders/date=2026-03-07', f))),
        ),
      )
    ).flat();
    expect(all.map((l) => JSON.parse(l).id)).toEqual(range(0, 25).map((e) => e.sequenceNumber));
  });

  it('does not commit a replayed segment that has not reached its boundary when draining', async () => {
    const first = writer({ checkpoint: async () => {} });
    await first.w.write(range(0, 9));
    await first.w.drain();
    const checkpoints: number[] = [];
    const second = writer({}, checkpoints);
    await second.w.write(range(0, 4));
    await second.w.drain();
    expect(await files()).toEqual(['hour=09/0-00000000000000000000-00000000000000000009.ndjson.gz']);
    expect(checkpoints).toEqual([]);
  });

  it('discards the open segment when the partition is lost and never publishes it', async () => {
    const checkpoints: number[] = [];
    const { w } = writer({}, checkpoints);
    await w.write(range(0, 14));
    w.abandon('ownership-lost');
    await w.close();
    await w.write(range(15, 30));
    expect(checkpoints.length).toBeLessThanOrEqual(1);
    const names = await files();
    expect(names.every((n) => n.includes('-00000000000000000000-00000000000000000009'))).toBe(true);
  });

  it('refuses to publish once another replica owns the partition', async () => {
    const checkpoints: number[] = [];
    const { w } = writer({ owns: async () => false }, checkpoints);
    await w.write(range(0, 9));
    await expect(w.drain()).rejects.toThrow(/owned by another replica/);
    expect(await files()).toEqual([]);
    expect(checkpoints).toEqual([]);
  });
});

describe('PartitionWriter with Parquet and dead letters', () => {
  const dataDir = 'p/topic=orders/date=2026-03-07/hour=09';
  const deadDir = 'p/_deadletter/topic=orders/date=2026-03-07/hour=09';
  const list = async (d: string) => (existsSync(join(root, d)) ? (await readdir(join(root, d))).sort() : []);
  const mixed = (from: number, to: number) =>
    range(from, to).map((e) =>
      e.sequenceNumber % 4 === 3 ? { ...e, body: Buffer.from(`plain text ${e.sequenceNumber}`) } : e,
    );

  async function parquetWriter(checkpoints: number[], overrides: Partial<PartitionWriterOptions> = {}) {
    const engine = await DuckDbEngine.create({ spillDir: join(root, 'spill') });
    const parquet = createFileFormat(
      { type: 'parquet', compression: 'zstd' },
      { parquet: { engine, tracker: new SchemaTracker(), maxBodyBytes: 1 << 20 } },
    );
    const w = new PartitionWriter({
      partitionId: '0',
      layout: { ...layout, extension: parquet.extension },
      format: parquet,
      limits,
      sink: new LocalFolderSink(root),
      log: pino({ level: 'silent' }),
      stats: newPartitionStats(),
      async checkpoint(position) {
        const name = `0-${String(position.sequenceNumber).padStart(20, '0')}`;
        expect((await list(dataDir)).some((f) => f.includes(name))).toBe(true);
        checkpoints.push(position.sequenceNumber);
      },
      ...overrides,
    });
    return { w, engine };
  }

  /** Events 0–14 written and drained: two data files, 0–9 and 10–14. */
  async function writeBoth(w: PartitionWriter, engine: DuckDbEngine) {
    await w.write(mixed(0, 14));
    await w.drain();
    engine.close();
    expect(await list(dataDir)).toEqual([
      '0-00000000000000000000-00000000000000000009.parquet',
      '0-00000000000000000010-00000000000000000014.parquet',
    ]);
  }

  it('publishes each segment’s dead letters beside it, before the data file and its checkpoint', async () => {
    const checkpoints: number[] = [];
    const flushed: FlushedFile[] = [];
    const { w, engine } = await parquetWriter(checkpoints, { onFlushed: (f) => flushed.push(f) });
    await writeBoth(w, engine);
    expect(await list(deadDir)).toEqual([
      '0-00000000000000000000-00000000000000000009.ndjson',
      '0-00000000000000000010-00000000000000000014.ndjson',
    ]);
    expect(checkpoints).toEqual([9, 14]);
    expect(flushed.map((f) => f.deadLettered)).toEqual([2, 1]);
    const dead = (
      await readFile(join(root, deadDir, '0-00000000000000000000-00000000000000000009.ndjson'), 'utf8')
    )
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(
      dead.map((d) => [d.sequenceNumber, d.reason, Buffer.from(d.bodyBase64, 'base64').toString()]),
    ).toEqual([
      [3, 'not-json', 'plain text 3'],
      [7, 'not-json', 'plain text 7'],
    ]);
    const rows = await readParquet(
      (await list(dataDir)).map((f) => join(root, dataDir, f)),
      { select: 'id, _eh_sequence_number' },
    );
    expect(rows.map((r) => Number(r.id))).toEqual(
      range(0, 14)
        .map((e) => e.sequenceNumber)
        .filter((s) => s % 4 !== 3),
    );
  });

  it('a dead-letter file whose data file never got published forces the replay boundary', async () => {
    // An earlier run published the dead letters of 0–9, then died before the data file.
    await mkdir(join(root, deadDir), { recursive: true });
    await writeFile(join(root, deadDir, '0-00000000000000000000-00000000000000000009.ndjson'), 'stale\n');
    const checkpoints: number[] = [];
    const { w, engine } = await parquetWriter(checkpoints, { limits: { ...limits, maxEvents: 1000 } });
    await writeBoth(w, engine);
    const rewritten = await readFile(
      join(root, deadDir, '0-00000000000000000000-00000000000000000009.ndjson'),
      'utf8',
    );
    expect(rewritten.trim().split('\n')).toHaveLength(2);
    expect(checkpoints).toEqual([9, 14]);
  });
});

describe('PartitionWriter: an event the format cannot write never stalls the partition', () => {
  /**
   * A format whose writer refuses a file holding a "poison" body only when the file ends (as DuckDB's
   * COPY does for Parquet): its checks cannot see it coming.
   */
  const refusing: FileFormat = {
    extension: '.ndjson',
    contentType: 'application/x-ndjson',
    createStreams: () => {
      let poisoned = false;
      const lines: Buffer[] = [];
      return [
        new Transform({
          writableObjectMode: true,
          transform(events: SourceEvent[], _, done) {
            for (const e of events) {
              const body = e.body as Buffer;
              if (body.includes('poison')) poisoned = true;
              lines.push(Buffer.concat([body, Buffer.from('\n')]));
            }
            done();
          },
          flush(done) {
            if (poisoned) done(new UnwritableError('Invalid Input Error: the writer refuses this row'));
            else done(null, Buffer.concat(lines));
          },
        }),
      ];
    },
  };
  const dataDir = 'p/topic=orders/date=2026-03-07/hour=09';
  const deadDir = 'p/_deadletter/topic=orders/date=2026-03-07/hour=09';
  const read = async (d: string) =>
    existsSync(join(root, d))
      ? (
          await Promise.all((await readdir(join(root, d))).map((f) => readFile(join(root, d, f), 'utf8')))
        ).flatMap((text) => text.trim().split('\n'))
      : [];

  it('isolates each refused event as a dead letter, writes every other event once, and checkpoints to the end', async () => {
    const poison = new Set([37, 38, 80]);
    const events = range(0, 99).map((e) =>
      poison.has(e.sequenceNumber) ? { ...e, body: Buffer.from(`{"id":${e.sequenceNumber},"poison":1}`) } : e,
    );
    const quarantine: { current: Quarantine | null } = { current: null };
    const reported: UnwritableSegment[] = [];
    let recovered = 0;
    let checkpoint = -1;
    let rounds = 0;
    // Each round is what the SDK does after processEvents throws: a new reader from the checkpoint.
    while (checkpoint < 99 && rounds < 40) {
      rounds++;
      const w = new PartitionWriter({
        partitionId: '0',
        layout: { ...layout, extension: refusing.extension },
        format: refusing,
        limits: { ...limits, maxEvents: 50 },
        sink: new LocalFolderSink(root),
        log: pino({ level: 'silent' }),
        stats: newPartitionStats(),
        quarantine,
        onUnwritable: (failure) => reported.push(failure),
        onRecovered: () => recovered++,
        async checkpoint(position) {
          checkpoint = position.sequenceNumber;
        },
      });
      try {
        for (let from = checkpoint + 1; from <= 99; from += 10) {
          await w.write(events.slice(from, from + 10));
        }
        await w.drain();
      } catch {
        await w.settle().catch(() => {}); // as the Ingestor: the failure is already reported
      }
    }
    expect(checkpoint).toBe(99);
    // Every event exactly once: in a data file or, for the refused ones, in a dead letter.
    const written = (await read(dataDir)).map((l) => JSON.parse(l).id as number);
    const dead = (await read(deadDir)).map((l) => JSON.parse(l));
    expect(dead.map((d) => [d.sequenceNumber, d.reason])).toEqual(
      [...poison].sort((a, b) => a - b).map((s) => [s, 'unwritable']),
    );
    expect(dead[0].detail).toMatch(/writer refuses this row/);
    expect(Buffer.from(dead[0].bodyBase64, 'base64').toString()).toBe('{"id":37,"poison":1}');
    expect([...written, ...dead.map((d) => d.sequenceNumber)].sort((a, b) => a - b)).toEqual(
      range(0, 99).map((e) => e.sequenceNumber),
    );
    // The failure is reported with the file and its first sequence number; each range is split in 8.
    expect(reported[0]).toMatchObject({
      firstSequence: 0,
      lastSequence: 49,
      path: `${dataDir}/0-00000000000000000000-00000000000000000049.ndjson`,
    });
    // 50 events: split to 7, then to 1, then written as a dead letter: three restarts per refused event.
    expect(reported.length).toBeLessThanOrEqual(poison.size * 3);
    expect(recovered).toBeGreaterThan(0);
    expect(quarantine.current).toBeNull();
    expect(rounds).toBeLessThanOrEqual(reported.length + 2);
  });
});

describe("PartitionWriter: upgrading to Capture's file-name layout", () => {
  it('rewrites a file the previous layout left uncheckpointed in place, then writes the new layout', async () => {
    const capture = { ...layout, prefix: 'c', template: PATH_PRESETS.capture };
    const at = (f: string) => join(root, 'c/ns/hub/0/2026/03/07/09/00', f);
    // An earlier version published 0–9 under …/{mm}/{ss}/ and died before its checkpoint.
    const old = writer({ layout: { ...capture, secondInName: false }, checkpoint: async () => {} });
    await old.w.write(range(0, 9));
    await old.w.drain();
    const legacy = '00/0-00000000000000000000-00000000000000000009.ndjson.gz';
    const before = await readFile(at(legacy));

    const checkpoints: number[] = [];
    const next = writer({
      layout: capture,
      limits: { ...limits, maxEvents: 1000 },
      checkpoint: async (p) => void checkpoints.push(p.sequenceNumber),
    });
    await next.w.write(range(0, 14));
    await next.w.drain();
    expect(checkpoints).toEqual([9, 14]);
    expect(decodeNdjson('x.gz', await readFile(at(legacy)))).toEqual(decodeNdjson('x.gz', before));
    // The rest lands in the new layout; nothing of 0–9 is written twice.
    const minute = (await readdir(join(root, 'c/ns/hub/0/2026/03/07/09/00'))).sort();
    expect(minute).toEqual(['00', '10-0-00000000000000000010-00000000000000000014.ndjson.gz']);
  });
});
