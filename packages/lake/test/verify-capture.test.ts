import { execFile } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { ContainerClient } from '@azure/storage-blob';
import { type Azurite, startAzurite } from '@hubcap/local-azurite';
import {
  buildPartitionManifest,
  buildTopicMarker,
  DEFAULT_CAPTURE_PATH_FORMAT,
  type ManifestFacts,
  manifestBytes,
  manifestPath,
  markerPath,
  PATH_PRESETS,
  renderPath,
  segmentFileName,
  splitTemplate,
} from '@hubcap/shared';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { StorageUnreachableError } from '../src/capture/scan.ts';
import { BlobStore } from '../src/store.ts';
import { type VerifyReport, verify } from '../src/verify.ts';
import { avroFile, CAPTURE_SCHEMA, captureName, records, upload } from './capture-files.ts';

const CLI = fileURLToPath(new URL('../src/cli.ts', import.meta.url));
const run = promisify(execFile);
const template = PATH_PRESETS.capture;
const layout = { prefix: 'lake', template, namespace: 'contoso', hub: 'orders', topic: 'orders' };
const at = (hour: number, minute: number) => new Date(Date.UTC(2026, 2, 7, hour, minute));
const hourMs = 3600_000;

let azurite: Azurite;
beforeAll(async () => {
  azurite = await startAzurite();
});
afterAll(async () => {
  await azurite?.close();
});

/**
 * Hubcap's files of one partition in the Capture preset (under `lake/`), one per range, the window's
 * manifest unless `open`; returns the manifest.
 */
async function landHubcap(
  lake: ContainerClient,
  partition: string,
  hour: number,
  files: [number, number][],
  open = false,
) {
  const start = at(hour, 0).getTime();
  const folder = splitTemplate(template).folder;
  const facts: ManifestFacts = {
    topic: 'orders',
    partition,
    window: { start, end: start + hourMs },
    files: [],
    lostAtSource: [],
  };
  for (const [first, last] of files) {
    const ctx = { ...layout, partition, time: at(hour, 0) };
    const path = `lake/${renderPath(folder, ctx)}/${segmentFileName(partition, first, last, '.avro', '00')}`;
    const bytes = await avroFile(records(first, last));
    await upload(lake, path, bytes);
    const md5 = (await lake.getBlobClient(path).getProperties()).contentMD5;
    facts.files.push({
      path,
      bytes: bytes.byteLength,
      md5: md5 ? Buffer.from(md5).toString('base64') : null,
      firstSequence: first,
      lastSequence: last,
      kind: 'data',
      events: last - first + 1,
    });
  }
  if (open) return null;
  const manifest = buildPartitionManifest(facts);
  await upload(lake, manifestPath(layout, partition, start)!, manifestBytes(manifest));
  return manifest;
}

const problems = (report: VerifyReport) =>
  report.cells.flatMap((c) =>
    c.problems.map((p) => [c.source, c.partition, p.kind, p.ranges ?? p.path ?? p.message]),
  );

describe('hubcap verify across Capture and Hubcap', () => {
  let capture: ContainerClient;
  let lake: ContainerClient;
  const audit = () =>
    verify(new BlobStore(lake), {
      prefix: 'lake',
      template,
      capture: {
        store: new BlobStore(capture),
        pathFormat: DEFAULT_CAPTURE_PATH_FORMAT,
        namespace: 'contoso',
        hub: 'orders',
      },
    });

  beforeEach(async () => {
    capture = await azurite.container();
    lake = await azurite.container();
    // Capture landed 0–59 of partitions 0 and 1 in three files and an empty one, then Hubcap took over.
    for (const p of ['0', '1']) {
      await upload(capture, captureName(p, at(9, 0)), await avroFile(records(0, 19)));
      await upload(capture, captureName(p, at(9, 5)), await avroFile(records(20, 39)));
      await upload(capture, captureName(p, at(9, 10)), await avroFile(records(40, 59)));
      await upload(capture, captureName(p, at(9, 15)), await avroFile([]));
    }
    const sealed = [
      await landHubcap(lake, '0', 10, [
        [60, 79],
        [80, 99],
      ]),
      await landHubcap(lake, '1', 10, [[60, 99]]),
    ];
    await upload(
      lake,
      markerPath(layout, at(10, 0).getTime())!,
      manifestBytes(buildTopicMarker('orders', sealed as NonNullable<(typeof sealed)[number]>[])),
    );
    await landHubcap(lake, '0', 11, [[100, 109]], true);
  });

  it("proves per partition that Hubcap's files continue Capture's with no gap and no overlap", async () => {
    const report = await audit();
    expect(
      report.cells.map((c) => [
        c.source,
        c.window.replace('lake/contoso/orders/', ''),
        c.partition,
        c.status,
        c.sequences,
        c.events,
      ]),
    ).toEqual([
      [
        'capture',
        'Capture 2026-03-07T09:00:00.000Z',
        '0',
        'complete',
        { firstSequence: 0, lastSequence: 59 },
        60,
      ],
      ['hubcap', '0/2026/03/07/10', '0', 'complete', { firstSequence: 60, lastSequence: 99 }, 40],
      ['hubcap', '0/2026/03/07/11', '0', 'open', { firstSequence: 100, lastSequence: 109 }, 10],
      [
        'capture',
        'Capture 2026-03-07T09:00:00.000Z',
        '1',
        'complete',
        { firstSequence: 0, lastSequence: 59 },
        60,
      ],
      ['hubcap', '1/2026/03/07/10', '1', 'complete', { firstSequence: 60, lastSequence: 99 }, 40],
    ]);
    expect(report.cells[0]!.files).toBe(4); // the empty one included
    expect(report.markers.map((m) => m.state)).toEqual(['marked']);
    expect(report).toMatchObject({ ok: true, problems: 0 });
  });

  it('names a removed Capture file as a gap with its range, and a gap at the handover', async () => {
    await capture.deleteBlob(captureName('0', at(9, 5)));
    await capture.deleteBlob(captureName('1', at(9, 10)));
    const report = await audit();
    expect(problems(report)).toEqual([
      ['capture', '0', 'gap', [{ firstSequence: 20, lastSequence: 39 }]],
      ['hubcap', '1', 'gap', [{ firstSequence: 40, lastSequence: 59 }]],
    ]);
    expect(report.cells.find((c) => c.partition === '1' && c.source === 'hubcap')!.problems[0]!.message).toBe(
      "sequence numbers missing since Capture's last file (the handover): 40–59 (20)",
    );
    expect(report.ok).toBe(false);
  });

  it('names overlaps: Capture writing on after the handover, a file holding a range twice or with holes', async () => {
    // Capture was still enabled when Hubcap started: its next file holds 55–64.
    await upload(capture, captureName('0', at(9, 20)), await avroFile(records(55, 64)));
    // A file whose records skip 5 claims 0–10 with 10 records.
    await upload(capture, captureName('1', at(8, 0)), await avroFile([...records(0, 4), ...records(6, 10)]));
    const report = await audit();
    expect(problems(report)).toEqual([
      ['capture', '0', 'overlap', [{ firstSequence: 55, lastSequence: 59 }]],
      ['hubcap', '0', 'overlap', [{ firstSequence: 60, lastSequence: 64 }]],
      ['capture', '1', 'gap', [{ firstSequence: 0, lastSequence: 10 }]],
      ['capture', '1', 'overlap', [{ firstSequence: 0, lastSequence: 10 }]],
    ]);
    expect(report.cells[0]!.problems[0]!.message).toMatch(/20\/00\.avro both hold 55–59 \(5\)/);
  });

  it('refuses a Capture path format that could leave the container, by what is wrong', async () => {
    await expect(
      verify(new BlobStore(lake), {
        prefix: 'lake',
        template,
        capture: {
          store: new BlobStore(capture),
          pathFormat: `../${DEFAULT_CAPTURE_PATH_FORMAT}`,
          namespace: 'contoso',
          hub: 'orders',
        },
      }),
    ).rejects.toThrow(
      /the Capture path format is invalid:\n {2}- must not contain "\." or "\.\." path segments/,
    );
  });

  it('names hostile Capture files (truncated, not Avro, wrong schema, past 2^53) without failing the audit', async () => {
    const whole = await avroFile(records(60, 200));
    const hostile = {
      truncated: whole.subarray(0, whole.length - 25),
      notAvro: Buffer.from('{"SequenceNumber": 60}\n'),
      nothing: Buffer.alloc(0),
      binary: Buffer.from([0x4f, 0x62, 0x6a, 0x01, 0x00, 0xff, 0xfe, 0x00]),
      wrongSchema: await avroFile([{ id: 1 }], {
        type: 'record',
        name: 'Order',
        fields: [{ name: 'id', type: 'int' }],
      }),
      huge: await avroFile([{ ...records(0, 0)[0], SequenceNumber: 2n ** 60n }], CAPTURE_SCHEMA, true),
    };
    let minute = 20;
    for (const bytes of Object.values(hostile))
      await upload(capture, captureName('1', at(9, minute++)), bytes);
    const report = await audit();
    const unreadable = report.cells
      .flatMap((c) => c.problems)
      .filter((p) => p.kind === 'unreadable-file')
      .map((p) => p.message.replace(/^contoso\/orders\/1\/2026\/03\/07\/09\/(\d+)\/00\.avro: /, '$1 '));
    expect(unreadable).toEqual([
      '20 is truncated: it stops inside a block',
      expect.stringMatching(/^21 is not a readable Avro file/),
      '22 is empty or has no whole Avro header',
      expect.stringMatching(/^23 (is not a readable Avro file|is empty or has no whole Avro header)/),
      "24 is not Event Hubs Capture's schema (SequenceNumber: long, Offset: string, EnqueuedTimeUtc: string missing)",
      '25 claims a sequence number past 2^53, which Event Hubs never assigns',
    ]);
    // Partition 0 is untouched and still proven.
    expect(report.cells.filter((c) => c.partition === '0').every((c) => c.problems.length === 0)).toBe(true);
    expect(report.ok).toBe(false);
  });

  it('the command audits both with --capture; exit 0 when continuous, 1 on a gap, 2 without the hub', {
    timeout: 60_000, // each run is a process start: slow on a loaded machine
  }, async () => {
    const args = [
      CLI,
      'verify',
      azurite.connectionString,
      '--container',
      lake.containerName,
      'lake',
      '--capture',
      '--namespace',
      'Contoso', // as the portal shows it; Capture's and Hubcap's folders say contoso
      '--hub',
      'orders',
      '--capture-container',
      capture.containerName,
    ];
    const ok = await run(process.execPath, args);
    expect(ok.stdout).toMatch(
      /complete +Capture 2026-03-07T09:00:00.000Z partition 0: 0–59, 60 events, 4 files/,
    );
    expect(ok.stdout).toMatch(/1 topic marker\(s\) agree with their manifests\nok\n$/);
    await capture.deleteBlob(captureName('0', at(9, 10)));
    const gap = await run(process.execPath, args).catch((e: { code: number; stdout: string }) => e);
    expect(gap).toMatchObject({
      code: 1,
      stdout: expect.stringMatching(
        /gap: sequence numbers missing since Capture's last file \(the handover\): 40–59/,
      ),
    });
    const usage = await run(
      process.execPath,
      args.filter((a) => a !== '--hub' && a !== 'orders'),
    ).catch((e: { code: number; stderr: string }) => e);
    expect(usage).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/--capture needs --namespace and --hub/),
    });
    const leaving = await run(process.execPath, [
      ...args,
      '--capture-path-format',
      '../{Namespace}/{EventHub}/{PartitionId}/{Year}/{Month}/{Day}/{Hour}/{Minute}/{Second}',
      '--marker-path',
      '../_SUCCESS',
    ]).catch((e: { code: number; stderr: string }) => e);
    expect(leaving).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/--marker-path: .*"\.\." path segments/),
    });
  });

  it('gives up on Capture storage that never answers, or stops in the middle of a file, naming what it read', async () => {
    const sockets = new Set<Socket>();
    // Lists nothing ever; sends a blob's first bytes and then nothing.
    const server = createServer((request, response) => {
      if (request.url?.includes('comp=list')) return;
      response.writeHead(200, {
        'content-length': '1000',
        'x-ms-blob-type': 'BlockBlob',
        etag: '"1"',
        'last-modified': new Date().toUTCString(),
      });
      response.write(Buffer.from('Obj\u0001'));
    }).on('connection', (socket) => sockets.add(socket));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/devstoreaccount1/capture`;
      const silent = new BlobStore(
        new ContainerClient(url, undefined, { retryOptions: { maxTries: 1 } }),
        200,
      );
      await expect(
        verify(new BlobStore(lake), {
          prefix: 'lake',
          template,
          capture: {
            store: silent,
            pathFormat: DEFAULT_CAPTURE_PATH_FORMAT,
            namespace: 'contoso',
            hub: 'orders',
          },
        }),
      ).rejects.toThrow(
        new StorageUnreachableError(
          'cannot list devstoreaccount1/capture/: storage did not answer for 0.2 s',
        ),
      );
      const body = await silent.stream('contoso/orders/0/x.avro');
      await expect(body!.toArray()).rejects.toThrow(
        new StorageUnreachableError('cannot read contoso/orders/0/x.avro: storage did not answer for 0.2 s'),
      );
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
