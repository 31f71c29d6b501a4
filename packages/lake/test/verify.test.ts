import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { type Azurite, startAzurite } from '@hubcap/local-azurite';
import {
  buildPartitionManifest,
  buildTopicMarker,
  type ManifestFacts,
  manifestBytes,
  PATH_PRESETS,
  type PartitionManifest,
  segmentFileName,
} from '@hubcap/shared';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { readGrid } from '../src/grid.ts';
import { BlobStore, FolderStore, type LakeStore } from '../src/store.ts';
import { verify } from '../src/verify.ts';

const CLI = fileURLToPath(new URL('../src/cli.ts', import.meta.url));
const run = promisify(execFile);
const hour = 3600_000;
const base = Date.UTC(2026, 2, 7, 9);
const template = PATH_PRESETS.hive;
const folder = (h: number) => `lake/topic=orders/date=2026-03-07/hour=${String(9 + h).padStart(2, '0')}`;
const md5 = (b: Buffer) => createHash('md5').update(b).digest('base64');

/** `'0-4 5-9'` → [[0, 4], [5, 9]]. */
const ranges = (text: string) => text.split(' ').map((r) => r.split('-').map(Number) as [number, number]);

/** A writable lake: the folder or the container the tests lay files in. */
interface Lake {
  store: LakeStore;
  put(path: string, bytes: Buffer | string): Promise<void>;
  remove(path: string): Promise<void>;
}

/**
 * Lays out what the agent writes: per window, the partition's files (ranges) and its manifest;
 * windows listed in `open` get files and no manifest. A window every partition sealed gets its marker.
 */
async function layOut(
  lake: Lake,
  windows: {
    h: number;
    partition?: string;
    files: [number, number][];
    lost?: [number, number][];
    open?: boolean;
  }[],
  { markers = true } = {},
) {
  const sealed = new Map<number, PartitionManifest[]>();
  for (const w of windows) {
    const partition = w.partition ?? '0';
    const facts: ManifestFacts = {
      topic: 'orders',
      partition,
      window: { start: base + w.h * hour, end: base + (w.h + 1) * hour },
      files: [],
      lostAtSource: (w.lost ?? []).map(([a, b]) => ({ firstSequence: a, lastSequence: b })),
    };
    for (const [first, last] of w.files) {
      const path = `${folder(w.h)}/${segmentFileName(partition, first, last, '.ndjson')}`;
      const bytes = Buffer.from(
        `${Array.from({ length: last - first + 1 }, (_, i) => `{"seq":${first + i}}`).join('\n')}\n`,
      );
      await lake.put(path, bytes);
      facts.files.push({
        path,
        bytes: bytes.byteLength,
        md5: md5(bytes),
        firstSequence: first,
        lastSequence: last,
        kind: 'data',
        events: last - first + 1,
      });
    }
    if (w.open) continue;
    const manifest = buildPartitionManifest(facts);
    await lake.put(`${folder(w.h)}/_hubcap/${partition}.manifest.json`, manifestBytes(manifest));
    sealed.set(w.h, [...(sealed.get(w.h) ?? []), manifest]);
  }
  const partitions = new Set(windows.map((w) => w.partition ?? '0'));
  for (const [h, manifests] of sealed)
    if (markers && manifests.length === partitions.size)
      await lake.put(`${folder(h)}/_SUCCESS`, manifestBytes(buildTopicMarker('orders', manifests)));
}

const good = [
  {
    h: 0,
    files: ranges('0-4 5-9'),
  },
  { h: 1, files: ranges('10-14') },
  { h: 2, files: ranges('15-19'), open: true },
  { h: 0, partition: '1', files: ranges('0-2') },
];

/** Partition 0's manifest of hour 09 with nothing in it. */
const emptyManifest = () =>
  buildPartitionManifest({
    topic: 'orders',
    partition: '0',
    window: { start: base, end: base + hour },
    files: [],
    lostAtSource: [],
  });

/** The marker of hour 09 as the agent writes it. */
async function readMarker(lake: Lake, windowFolder: string): Promise<string> {
  return String(await lake.store.read(`${windowFolder}/_SUCCESS`));
}

/** The marker the windows of `good` give hour 09 (both partitions sealed it). */
async function readMarkerOf(lake: Lake, windows: typeof good): Promise<Buffer> {
  const manifests = [];
  for (const w of windows.filter((w) => w.h === 0))
    manifests.push(
      JSON.parse(String(await lake.store.read(`${folder(0)}/_hubcap/${w.partition ?? '0'}.manifest.json`))),
    );
  return manifestBytes(buildTopicMarker('orders', manifests));
}

let azurite: Azurite;
beforeAll(async () => {
  azurite = await startAzurite();
});
afterAll(async () => {
  await azurite?.close();
});

const lakes = {
  folder: async (): Promise<Lake & { root: string }> => {
    const root = await mkdtemp(join(tmpdir(), 'hubcap-verify-'));
    return {
      root,
      store: new FolderStore(root),
      put: async (path, bytes) => {
        await mkdir(dirname(join(root, path)), { recursive: true });
        await writeFile(join(root, path), bytes);
      },
      remove: (path) => rm(join(root, path)),
    };
  },
  azurite: async (): Promise<Lake & { root: string }> => {
    const container = await azurite.container();
    return {
      root: container.containerName,
      store: new BlobStore(container),
      put: async (path, bytes) => {
        await container.getBlockBlobClient(path).upload(bytes, Buffer.byteLength(bytes));
      },
      remove: async (path) => {
        await container.deleteBlob(path);
      },
    };
  },
};

for (const [name, make] of Object.entries(lakes)) {
  describe(`hubcap verify on ${name}`, () => {
    let lake: Lake & { root: string };
    beforeEach(async () => {
      lake = await make();
    });

    it('reports complete windows, the newest one open, and no problem', async () => {
      await layOut(lake, good);
      const report = await verify(lake.store, { prefix: 'lake', template });
      expect(report.cells.map((c) => [c.partition, c.window.slice(-7), c.status, c.events])).toEqual([
        ['0', 'hour=09', 'complete', 10],
        ['0', 'hour=10', 'complete', 5],
        ['0', 'hour=11', 'open', 5],
        ['1', 'hour=09', 'complete', 3],
      ]);
      expect(report.ok).toBe(true);
    });

    it("leaves out folders the template does not render, such as a replay's prefix inside the topic's", async () => {
      await layOut(lake, good);
      // A replay into "lake/backfill" copies partition 0's hour 09: the same names under another folder.
      const copy = `lake/backfill/${folder(0).slice('lake/'.length)}`;
      await lake.put(`${copy}/${segmentFileName('0', 0, 9, '.ndjson')}`, '{"seq":0}\n');
      await lake.put(`${copy}/_hubcap/0.manifest.json`, manifestBytes(emptyManifest()));
      const report = await verify(lake.store, { prefix: 'lake', template });
      expect(report.cells.filter((c) => c.window.includes('backfill'))).toEqual([]);
      expect(report.problems).toBe(0);
    });

    it('refuses a prefix with nothing under it, or one that could leave the container', async () => {
      await layOut(lake, good);
      await expect(verify(lake.store, { prefix: 'lake-typo', template })).rejects.toThrow(
        /nothing under prefix "lake-typo"/,
      );
      await expect(verify(lake.store, { prefix: '../lake', template })).rejects.toThrow(
        /"\.\." path segment/,
      );
    });

    it('finds a missing file, an overlap, a checksum mismatch, a gap between windows and an unlisted file', async () => {
      await layOut(lake, [
        {
          h: 0,
          files: ranges('0-4 5-9'),
        },
        { h: 1, files: ranges('12-14') },
        { h: 2, files: ranges('15-19'), open: true },
        { h: 3, files: ranges('20-20'), open: true },
      ]);
      await lake.remove(`${folder(0)}/${segmentFileName('0', 5, 9, '.ndjson')}`);
      await lake.put(`${folder(1)}/${segmentFileName('0', 12, 14, '.ndjson')}`, 'tampered, same length?\n');
      await lake.put(`${folder(1)}/${segmentFileName('0', 13, 16, '.ndjson')}`, 'x\n');
      const report = await verify(lake.store, { prefix: 'lake', template });
      const kinds = (h: string) =>
        report.cells
          .find((c) => c.window.endsWith(h))!
          .problems.map((p) => p.kind)
          .sort();
      expect(kinds('hour=09')).toEqual(['missing-file']);
      expect(kinds('hour=10')).toEqual(['checksum-mismatch', 'gap', 'size-mismatch', 'unlisted-file']);
      expect(
        report.cells.find((c) => c.window.endsWith('hour=10'))!.problems.find((p) => p.kind === 'gap')!
          .ranges,
      ).toEqual([{ firstSequence: 10, lastSequence: 11 }]);
      expect(kinds('hour=11')).toEqual(['unlisted-file']);
      expect(kinds('hour=12')).toEqual([]);
      expect(report.ok).toBe(false);

      // The overlap an unmanifested window shows by itself.
      await lake.put(`${folder(3)}/${segmentFileName('0', 20, 22, '.ndjson')}`, 'y\n');
      const again = await verify(lake.store, { prefix: 'lake', template });
      expect(again.cells.find((c) => c.window.endsWith('hour=12'))!.problems.map((p) => p.kind)).toEqual([
        'overlap',
      ]);

      // Two data files of one range (one per format, after a change) are an overlap, not one file.
      await lake.put(`${folder(2)}/${segmentFileName('0', 15, 19, '.parquet')}`, 'z\n');
      const twice = await verify(lake.store, { prefix: 'lake', template });
      expect(twice.cells.find((c) => c.window.endsWith('hour=11'))!.problems.map((p) => p.kind)).toEqual([
        'overlap',
        'unlisted-file',
      ]);
    });

    it('names ranges lost at source, failing unless allowed', async () => {
      await layOut(lake, [
        {
          h: 0,
          files: ranges('0-4 8-9'),
          lost: ranges('5-7'),
        },
      ]);
      const strict = await verify(lake.store, { prefix: 'lake', template });
      expect(strict.cells[0]).toMatchObject({
        status: 'lost-at-source',
        lostAtSource: [{ firstSequence: 5, lastSequence: 7 }],
      });
      expect(strict.ok).toBe(false);
      expect((await verify(lake.store, { prefix: 'lake', template, allowLost: true })).ok).toBe(true);
    });

    it('checks topic markers: due where every partition sealed, agreeing with the manifests, never early', async () => {
      await layOut(lake, good);
      const audit = () => verify(lake.store, { prefix: 'lake', template });
      const states = async () =>
        (await audit()).markers.map((m) => [m.window.slice(11, 13), m.state, m.message]);
      expect(await states()).toEqual([
        ['09', 'marked', `${folder(0)}/_SUCCESS agrees with 2 partition manifest(s)`],
      ]);

      // Sealed by every partition, no marker: downstream jobs waiting on it never start.
      await lake.remove(`${folder(0)}/_SUCCESS`);
      expect(await states()).toEqual([
        ['09', 'unmarked', `every partition sealed the window; ${folder(0)}/_SUCCESS is missing`],
      ]);
      expect(await audit()).toMatchObject({ ok: false, problems: 1 });

      // A marker for a window partition 1 has not sealed (hour 10), one where nothing landed (hour 14).
      const marker = JSON.parse(manifestBytes(buildTopicMarker('orders', [emptyManifest()])).toString());
      await lake.put(`${folder(1)}/_SUCCESS`, JSON.stringify(marker));
      await lake.put(`${folder(5)}/_SUCCESS`, JSON.stringify(marker));
      // The marker of hour 09 written again, but saying partition 1 has 4 events instead of 3.
      await layOut(lake, good.slice(0, 1).concat(good.slice(3)));
      const tampered = JSON.parse(await readMarker(lake, folder(0)));
      tampered.partitions[1].events = 4;
      await lake.put(`${folder(0)}/_SUCCESS`, JSON.stringify(tampered));
      expect(await states()).toEqual([
        [
          '09',
          'bad-marker',
          `${folder(0)}/_SUCCESS disagrees with the manifests: partition 1: {"partition":"1","sequences":{"firstSequence":0,"lastSequence":2},"events":4,"lostAtSource":0}, its manifest {"partition":"1","sequences":{"firstSequence":0,"lastSequence":2},"events":3,"lostAtSource":0}`,
        ],
        ['10', 'bad-marker', `${folder(1)}/_SUCCESS marks a window partition(s) 1 have not sealed`],
        [
          '14',
          'bad-marker',
          `${folder(5)}/_SUCCESS marks a window no partition landed or sealed anything in`,
        ],
      ]);

      // Hostile markers are named, not a crash.
      for (const hostile of [
        '',
        Buffer.from([0x7b, 0xff, 0xfe, 0x7d]),
        `${'['.repeat(5000)}${']'.repeat(5000)}`,
        JSON.stringify({ ...tampered, partitions: [{ ...tampered.partitions[0], events: 2 ** 60 }] }),
        `\uFEFF${JSON.stringify(tampered)}`,
      ]) {
        await lake.put(`${folder(0)}/_SUCCESS`, hostile);
        const [first] = (await audit()).markers;
        expect(first, String(hostile).slice(0, 30)).toMatchObject({
          state: 'bad-marker',
          // A BOM is read past (as JSON readers do): that marker is then judged by its content.
          message: expect.stringMatching(/is not (UTF-8 JSON|a topic marker)|disagrees/),
        });
      }
    });

    it('finds markers at a configured path, and asks for the names it uses that the folders do not', async () => {
      await layOut(lake, good, { markers: false });
      const markerPath = 'markers/{hub}/{yyyy}{MM}{dd}T{HH}/_SUCCESS';
      // A caller that cannot name the hub gets the rest of the audit, and why the markers were not checked.
      expect(await verify(lake.store, { prefix: 'lake', template, markers: { markerPath } })).toMatchObject({
        ok: true,
        markers: [],
        markersUnchecked:
          'the marker path "markers/{hub}/{yyyy}{MM}{dd}T{HH}/_SUCCESS" uses {hub}, which the window folders do not name: give a topic config',
      });
      const options = { prefix: 'lake', template, markers: { markerPath, hub: 'orders' } };
      expect((await verify(lake.store, options)).markers.map((m) => [m.path, m.state])).toEqual([
        ['lake/markers/orders/20260307T09/_SUCCESS', 'unmarked'],
      ]);
      await lake.put('lake/markers/orders/20260307T09/_SUCCESS', await readMarkerOf(lake, good));
      expect(await verify(lake.store, options)).toMatchObject({ ok: true, markers: [{ state: 'marked' }] });
    });

    it('reports hostile manifests as problems: not JSON, invalid UTF-8, deeply nested, huge numbers, another partition', async () => {
      const manifest = `${folder(0)}/_hubcap/0.manifest.json`;
      const ok = JSON.parse(manifestBytes(emptyManifest()).toString());
      for (const hostile of [
        '',
        '{"version": 1,',
        Buffer.from([0x7b, 0xff, 0xfe, 0x7d]),
        `${'['.repeat(5000)}${']'.repeat(5000)}`,
        JSON.stringify({ ...ok, events: 2 ** 60 }),
        JSON.stringify({ ...ok, partition: '1' }),
        JSON.stringify({
          ...ok,
          files: [
            {
              path: '../../etc/passwd',
              kind: 'data',
              firstSequence: 0,
              lastSequence: 0,
              events: 1,
              bytes: 1,
              md5: null,
            },
          ],
        }),
        `\u0000${JSON.stringify(ok)}`,
      ]) {
        await lake.put(manifest, hostile);
        const report = await verify(lake.store, { prefix: 'lake', template });
        expect(report.ok, String(hostile).slice(0, 40)).toBe(false);
        expect(report.cells[0]!.problems[0]!.kind).toMatch(/bad-manifest|missing-file/);
      }
    });

    it('the command exits 0 on a good prefix, 1 on a problem, 2 when it cannot run; --json prints the report', {
      timeout: 60_000, // each run is a process start: slow on a loaded machine
    }, async () => {
      await layOut(lake, good);
      const target = name === 'folder' ? [lake.root] : [azurite.connectionString, '--container', lake.root];
      const args = [CLI, 'verify', ...target, 'lake', '--template', template];
      const okRun = await run(process.execPath, [...args, '--json']);
      expect(JSON.parse(okRun.stdout)).toMatchObject({ ok: true, problems: 0 });
      await lake.remove(`${folder(1)}/${segmentFileName('0', 10, 14, '.ndjson')}`);
      const failed = await run(process.execPath, args).catch((e: { code: number; stdout: string }) => e);
      expect(failed).toMatchObject({
        code: 1,
        stdout: expect.stringMatching(/missing-file: .*is listed but missing/),
      });
      const usage = await run(process.execPath, [
        CLI,
        'verify',
        ...target,
        'lake',
        '--template',
        '{topic}',
      ]).catch((e: { code: number; stderr: string }) => e);
      expect(usage).toMatchObject({ code: 2, stderr: expect.stringMatching(/no time variable/) });
      const markerPath = 'markers/{hub}/{yyyy}{MM}{dd}{HH}/_SUCCESS';
      const noHub = await run(process.execPath, [...args, '--marker-path', markerPath]).catch(
        (e: { code: number; stderr: string }) => e,
      );
      expect(noHub).toMatchObject({
        code: 2,
        stderr: expect.stringMatching(/uses \{hub\}, which the window/),
      });
      if (name === 'azurite') {
        const missing = await run(process.execPath, [
          CLI,
          'verify',
          azurite.connectionString,
          '--container',
          'no-such-container',
        ]).catch((e: { code: number; stderr: string }) => e);
        expect(missing).toMatchObject({
          code: 2,
          stderr: expect.stringMatching(/container "no-such-container" does not exist/),
        });
      }
    });
  });
}

describe('completeness grid', () => {
  it('shows complete, open, empty, gap and lost-at-source cells and the freshness of complete windows', async () => {
    const lake = await lakes.folder();
    await layOut(
      lake,
      [
        { h: 0, files: ranges('0-4') },
        { h: 1, files: ranges('7-9') },
        {
          h: 2,
          files: ranges('10-11 15-15'),
          lost: ranges('12-14'),
        },
        { h: 0, partition: '1', files: ranges('0-2') },
        { h: 1, partition: '1', files: ranges('3-3') },
        { h: 3, files: ranges('16-17 18-20'), open: true },
      ],
      { markers: false },
    );
    await lake.put(`${folder(0)}/_SUCCESS`, '{}');
    await lake.put(`${folder(3)}/_hubcap/1.manifest.json`, '{"version":1,');
    const layout = { prefix: 'lake', template, namespace: 'ns', hub: 'hub', topic: 'orders' };
    const grid = await readGrid(lake.store, layout, ['0', '1'], {
      from: new Date(base - 2 * hour),
      to: new Date(base + 4 * hour - 1),
    });
    // Before the first data nothing is listed; files without a manifest are open (with the events
    // their names cover), an unreadable manifest too; nothing at all is empty.
    expect(
      grid.map((w) => [w.start.slice(11, 13), w.cells.map((c) => c.state), w.completedAt !== null]),
    ).toEqual([
      ['12', ['open', 'open'], false],
      ['11', ['lost-at-source', 'empty'], false],
      ['10', ['gap', 'complete'], false],
      ['09', ['complete', 'complete'], true],
    ]);
    expect(grid[0]!.cells[0]).toMatchObject({ events: 5 });
    expect(grid[1]!.cells[0]).toMatchObject({ events: 3, lost: 3 });
    expect(grid[3]!.freshnessSeconds).toBeGreaterThan(0);
  });
});
