import type { AddressInfo } from 'node:net';
import { createServer, type Socket } from 'node:net';
import { Readable } from 'node:stream';
import { BlobCheckpointStore } from '@azure/eventhubs-checkpointstore-blob';
import { ContainerClient } from '@azure/storage-blob';
import { type Azurite, startAzurite } from '@hubcap/local-azurite';
import { DEFAULT_CAPTURE_PATH_FORMAT, segmentFileName, ValidationError } from '@hubcap/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CaptureFileError,
  captureLayout,
  capturePlan,
  continuityReport,
  readCaptureFile,
  StorageUnreachableError,
  seedCheckpoints,
} from '../src/index.ts';
import { avroFile, CAPTURE_SCHEMA, captureName, continuityRows, records, upload } from './capture-files.ts';

let azurite: Azurite;
beforeAll(async () => {
  azurite = await startAzurite();
});
afterAll(async () => {
  await azurite?.close();
});

const at = (minute: number) => new Date(Date.UTC(2026, 2, 7, 9, minute, 0));
const source = (container: ContainerClient, pathFormat = DEFAULT_CAPTURE_PATH_FORMAT) => ({
  container,
  pathFormat,
  namespace: 'contoso',
  hub: 'orders',
});
/** A Hubcap data file name in the Capture preset's layout. */
const hubcapName = (partition: string, first: number, last: number) =>
  `contoso/orders/${partition}/2026/03/07/10/00/${segmentFileName(partition, first, last, '.avro', '00')}`;

describe('Capture path formats', () => {
  it('reads partition and window from a name, without case on namespace and hub', () => {
    const layout = captureLayout(DEFAULT_CAPTURE_PATH_FORMAT, 'Contoso', 'orders');
    expect(layout.listPrefix).toBe('');
    expect(layout.parse('contoso/ORDERS/3/2026/03/07/09/05/02.avro')).toEqual({
      partitionId: '3',
      time: Date.UTC(2026, 2, 7, 9, 5, 2),
    });
    expect(layout.parse('other/orders/3/2026/03/07/09/05/02.avro')).toBeNull();
    // Hubcap's own files in the Capture preset are not Capture's.
    expect(layout.parse(hubcapName('3', 0, 9))).toBeNull();
    const custom = captureLayout(
      'capture/{Year}-{Month}-{Day}/{Namespace}/{EventHub}/{PartitionId}/{Hour}{Minute}/{Second}',
      'contoso',
      'orders',
    );
    expect(custom.listPrefix).toBe('capture/');
  });

  it('refuses ".." segments, unknown or missing tokens, by what is wrong', () => {
    const problems = (format: string) => {
      try {
        captureLayout(format, 'ns', 'hub');
        return [];
      } catch (error) {
        return (error as ValidationError).problems;
      }
    };
    expect(problems(`../${DEFAULT_CAPTURE_PATH_FORMAT}`)).toEqual([
      'must not contain "." or ".." path segments',
    ]);
    expect(problems('{Namespace}/{EventHub}/{PartitionId}')[0]).toMatch(/missing \{Year\}, \{Month\}/);
    expect(problems(`${DEFAULT_CAPTURE_PATH_FORMAT}/{Week}`)[0]).toMatch(/unknown token \{Week\}/);
    expect(problems('')).toContainEqual(expect.stringMatching(/missing \{Namespace\}/));
    expect(problems(`${DEFAULT_CAPTURE_PATH_FORMAT}/x y`)).toEqual([
      'may contain only letters, digits, "=", ".", "_", "-" and "/" outside tokens',
    ]);
    expect(() => captureLayout('x'.repeat(5000), 'ns', 'hub')).toThrow(ValidationError);
  });
});

describe('reading a Capture file', () => {
  it('keeps its first and last record, streaming any number of blocks', async () => {
    const file = await avroFile(records(7, 5006));
    const summary = await readCaptureFile(Readable.from([file]), 'f.avro');
    expect(summary.records).toBe(5000);
    expect(summary.first).toEqual({
      sequenceNumber: 7,
      offset: '700',
      enqueuedTimeUtc: '3/7/2026 9:05:02 AM',
    });
    expect(summary.last?.sequenceNumber).toBe(5006);
    const first = await readCaptureFile(Readable.from([file]), 'f.avro', { firstOnly: true });
    expect(first.first?.sequenceNumber).toBe(7);
  });

  it('names a truncated, foreign, hostile or non-Avro file instead of crashing', async () => {
    const whole = await avroFile(records(0, 500));
    const read = (bytes: Buffer) => readCaptureFile(Readable.from([bytes]), 'x/05.avro');
    await expect(read(whole.subarray(0, whole.length - 20))).rejects.toThrow(/x\/05.avro: is truncated/);
    await expect(read(whole.subarray(0, 20))).rejects.toThrow(/no whole Avro header/);
    await expect(read(Buffer.alloc(0))).rejects.toThrow(/no whole Avro header/);
    await expect(read(Buffer.from('{"not":"avro"}\n'))).rejects.toThrow(/not a readable Avro file/);
    const foreign = await avroFile([{ id: 1 }], {
      type: 'record',
      name: 'Order',
      fields: [{ name: 'id', type: 'int' }],
    });
    await expect(read(foreign)).rejects.toThrow(
      "x/05.avro: is not Event Hubs Capture's schema (SequenceNumber: long, Offset: string, EnqueuedTimeUtc: string missing)",
    );
    // Event Hubs never assigns a sequence number past 2^53: a file claiming one is refused.
    const huge = await avroFile([{ ...records(0, 0)[0], SequenceNumber: 2n ** 60n }], CAPTURE_SCHEMA, true);
    await expect(read(huge)).rejects.toThrow(/past 2\^53/);
    const negative = await avroFile([{ ...records(0, 0)[0], SequenceNumber: -5 }], CAPTURE_SCHEMA);
    await expect(read(negative)).rejects.toBeInstanceOf(CaptureFileError);
    const noOffset = await avroFile([{ ...records(0, 0)[0], Offset: '' }]);
    await expect(read(noOffset)).rejects.toThrow(
      'x/05.avro: has a record (sequence number 0) without a usable Offset',
    );
  });

  it('reads an empty Capture file as no records', async () => {
    expect(await readCaptureFile(Readable.from([await avroFile([])]), 'e.avro')).toEqual({
      records: 0,
      first: null,
      last: null,
    });
  });
});

describe('the cutover plan', () => {
  it('finds per partition the last record of the newest non-empty file, and names what it could not use', async () => {
    const container = await azurite.container();
    await upload(container, captureName('0', at(0)), await avroFile(records(0, 99)));
    await upload(
      container,
      captureName('0', at(5)),
      await avroFile(records(100, 149, '3/7/2026 9:09:59 PM')),
    );
    await upload(container, captureName('0', at(10)), await avroFile([])); // Capture's empty window
    await upload(container, captureName('1', at(0)), await avroFile(records(0, 40)));
    const cut = await avroFile(records(41, 400));
    await upload(container, captureName('1', at(5)), cut.subarray(0, cut.length - 30));
    await upload(container, captureName('0', at(0), 'contoso', 'payments'), await avroFile(records(0, 999)));

    const plan = await capturePlan(source(container), ['0', '1', '2']);
    expect(plan.partitions).toEqual([
      {
        partitionId: '0',
        captureLast: {
          sequenceNumber: 149,
          offset: '14900',
          enqueuedTime: '2026-03-07T21:09:59.000Z',
          file: captureName('0', at(5)),
        },
        hubcapFirst: 150,
        problem: null,
      },
      {
        partitionId: '1',
        captureLast: expect.objectContaining({ sequenceNumber: 40, file: captureName('1', at(0)) }),
        hubcapFirst: 41,
        problem: '1 newer file(s) cannot be read (listed below): repair or remove them first',
      },
      {
        partitionId: '2',
        captureLast: null,
        hubcapFirst: null,
        problem: 'Capture has no file for this partition in this container and path format',
      },
    ]);
    expect(plan.fileProblems).toEqual([
      {
        file: captureName('1', at(5)),
        message: `${captureName('1', at(5))}: is truncated: it stops inside a block`,
      },
    ]);
  });

  it('says when storage cannot be reached or the container does not exist', async () => {
    const missing = azurite.service.getContainerClient('no-such-container');
    await expect(capturePlan(source(missing))).rejects.toThrow(
      new StorageUnreachableError(
        'cannot list no-such-container/: container "no-such-container" does not exist',
        true,
      ),
    );
    const closed = new ContainerClient('http://127.0.0.1:9/devstoreaccount1/c', undefined, {
      retryOptions: { maxTries: 1 },
    });
    await expect(capturePlan(source(closed))).rejects.toBeInstanceOf(StorageUnreachableError);
  });

  it('gives up on storage that accepts the connection and never answers, naming what it was reading', async () => {
    const sockets = new Set<Socket>();
    const silent = createServer((socket) => sockets.add(socket)); // holds every connection open, says nothing
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const port = (silent.address() as AddressInfo).port;
      const container = new ContainerClient(`http://127.0.0.1:${port}/devstoreaccount1/capture`, undefined, {
        retryOptions: { maxTries: 1 },
      });
      await expect(capturePlan({ ...source(container), idleMs: 200 })).rejects.toThrow(
        new StorageUnreachableError('cannot list capture/: storage did not answer for 0.2 s'),
      );
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  });
});

describe('the continuity report', () => {
  it('proves Capture last + 1 = Hubcap first, and names a gap or an overlap by range', async () => {
    const capture = await azurite.container();
    const lake = await azurite.container();
    await upload(capture, captureName('0', at(0)), await avroFile(records(0, 99)));
    await upload(capture, captureName('1', at(0)), await avroFile(records(0, 49)));
    await upload(capture, captureName('2', at(0)), await avroFile(records(0, 49)));
    // Capture kept writing on partition 2 after the plan: its file overlaps what Hubcap landed.
    await upload(capture, captureName('2', at(5)), await avroFile(records(50, 59)));
    for (const [p, first, last] of [
      ['0', 100, 120],
      ['0', 121, 130],
      ['1', 52, 70],
      ['2', 50, 80],
    ] as const)
      await upload(lake, `lake/${hubcapName(p, first, last)}`, Buffer.from('x'));
    await upload(lake, `lake/_deadletter/${hubcapName('0', 0, 5)}.ndjson`, Buffer.from('x'));

    const report = await continuityReport(source(capture), { container: lake, prefix: 'lake' }, 'toHubcap');
    expect(continuityRows(report)).toEqual([
      ['0', 99, 100, { state: 'continuous' }],
      ['1', 49, 52, { state: 'gap', from: 50, to: 51 }],
      ['2', 59, 50, { state: 'overlap', from: 50, to: 59 }],
    ]);
    expect(report.partitions[0]!.after?.file).toBe(`lake/${hubcapName('0', 100, 120)}`);

    // Rollback: Capture enabled again writes from where it starts; Hubcap's last is compared with it.
    await upload(capture, captureName('0', at(30)), await avroFile(records(131, 140)));
    await upload(capture, captureName('0', at(35)), await avroFile(records(141, 150)));
    await upload(capture, captureName('1', at(30)), await avroFile(records(65, 90)));
    const back = await continuityReport(source(capture), { container: lake, prefix: 'lake/' }, 'toCapture');
    expect(continuityRows(back)).toEqual([
      ['0', 130, 131, { state: 'continuous' }],
      ['1', 70, 65, { state: 'overlap', from: 65, to: 70 }],
      // Capture's file that started at Hubcap's first (it was never stopped) counts as written after.
      ['2', 80, 50, { state: 'overlap', from: 50, to: 80 }],
    ]);
    expect(back.partitions[0]!.after?.file).toBe(captureName('0', at(30)));
  });
});

describe('seeding checkpoints', () => {
  it("writes them where the topic's agents read them, in the SDK's own format", async () => {
    const container = await azurite.container();
    const target = {
      topic: 'orders',
      fullyQualifiedNamespace: 'contoso.servicebus.windows.net',
      eventHubName: 'orders',
      consumerGroup: 'hubcap',
    };
    await seedCheckpoints(container, target, [
      { partitionId: '0', sequenceNumber: 149, offset: '14900' },
      { partitionId: '1', sequenceNumber: 40, offset: '4000' },
    ]);
    const store = new BlobCheckpointStore(container);
    const read = await store.listCheckpoints(
      'topics/orders/contoso.servicebus.windows.net',
      'orders',
      'hubcap',
    );
    expect(read.map((c) => [c.partitionId, c.sequenceNumber, c.offset]).sort()).toEqual([
      ['0', 149, '14900'],
      ['1', 40, '4000'],
    ]);
  });
});
