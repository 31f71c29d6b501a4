import { BlobServiceClient, type ContainerClient } from '@azure/storage-blob';
import { avroFile, records } from '@hubcap/lake/test/capture-files';
import { type Azurite, startAzurite } from '@hubcap/local-azurite';
import { type LocalEventHubs, startLocalEventHubs } from '@hubcap/local-eventhubs';
import { DEFAULT_CAPTURE_PATH_FORMAT, segmentFileName, type TopicConfigInput } from '@hubcap/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readTopicLag } from '../src/services/telemetry/lag-probe.ts';
import { loadAgentConfig } from '../src/services/topics/topic-configs.ts';
import { createTopic } from '../src/services/topics/topics.ts';
import { sendEvents } from './fixtures.ts';
import { type Harness, startHarness } from './harness.ts';

let api: Harness;
let hubs: LocalEventHubs;
let azurite: Azurite;
let viewer: { cookie: string };
let editor: { cookie: string };

beforeAll(async () => {
  [api, hubs, azurite] = await Promise.all([
    startHarness(),
    startLocalEventHubs({
      host: '127.0.0.1',
      port: 0,
      hubs: [
        { name: 'orders', partitionCount: 2 },
        { name: 'short', partitionCount: 1, retention: { maxEvents: 10 } },
        { name: 'sparse', partitionCount: 2 },
      ],
    }),
    startAzurite(),
  ]);
  viewer = { cookie: await api.signedIn('viewer') };
  editor = { cookie: await api.signedIn('editor') };
}, 120_000);
afterAll(async () => {
  await Promise.all([api?.close(), hubs?.close(), azurite?.close()]);
});

const send = (partitionId: string, count: number, hub = 'orders') =>
  sendEvents(hubs.connectionString(), hub, partitionId, count);

function config(topic: string, storage = azurite.connectionString, hub = 'orders'): TopicConfigInput {
  return {
    topic,
    source: {
      fullyQualifiedNamespace: `127.0.0.1:${hubs.port}`,
      eventHubName: hub,
      consumerGroup: topic,
      auth: { kind: 'connectionString', connectionString: hubs.connectionString() },
    },
    destination: {
      kind: 'azureBlob',
      account: { kind: 'connectionString', connectionString: storage },
      container: `${topic}-lake`,
      checkpointContainer: `${topic}-checkpoints`,
    },
  };
}

/** Capture's name for a window of partition `p` on this hub (the namespace is the host: 127.0.0.1). */
const captureName = (p: string, minute: number, hub = 'orders') =>
  `127.0.0.1/${hub}/${p}/2026/03/07/09/${String(minute).padStart(2, '0')}/00.avro`;

async function captureContainer(name: string): Promise<ContainerClient> {
  const container = BlobServiceClient.fromConnectionString(azurite.connectionString).getContainerClient(name);
  await container.createIfNotExists();
  return container;
}

/** Starts the orders topic after the plan that showed Capture's last at `last0` and `last1`. */
const start = (last0: number, last1: number) =>
  api.call(
    'cutover.start',
    {
      ...location('orders'),
      expected: [
        { partitionId: '0', sequenceNumber: last0 },
        { partitionId: '1', sequenceNumber: last1 },
      ],
    },
    editor,
  );

const location = (topic: string, container = 'capture') => ({
  topic,
  container,
  pathFormat: DEFAULT_CAPTURE_PATH_FORMAT,
});

describe('the Capture cutover through the api', () => {
  it('plans from Capture’s files, refuses a plan Capture has moved past, seeds checkpoints the lag probe reads, and reports continuity', {
    timeout: 90_000,
  }, async () => {
    await createTopic(api.prisma, api.secrets, config('orders'), { actor: 'system' });
    await send('0', 30);
    await send('1', 25);
    const capture = await captureContainer('capture');
    const upload = async (name: string, bytes: Buffer) => capture.getBlockBlobClient(name).uploadData(bytes);
    await upload(captureName('0', 0), await avroFile(records(0, 29)));
    await upload(captureName('1', 0), await avroFile(records(0, 19)));
    await upload(captureName('1', 5), await avroFile([])); // an empty window

    const planned = await api.call('cutover.plan', location('orders'), viewer);
    expect(planned.status).toBe(200);
    const plan = planned.body.result.data;
    expect(plan.blockers).toEqual([]);
    expect(
      plan.partitions.map(
        (p: { partitionId: string; captureLast: { sequenceNumber: number }; hubcapFirst: number }) => [
          p.partitionId,
          p.captureLast.sequenceNumber,
          p.hubcapFirst,
        ],
      ),
    ).toEqual([
      ['0', 29, 30],
      ['1', 19, 20],
    ]);

    // Capture was not stopped: it wrote another window after the plan was shown.
    await upload(captureName('1', 10), await avroFile(records(20, 24)));
    const stale = await start(29, 19);
    expect(stale.status).toBe(409);
    expect(stale.body.error.message).toMatch(
      /partition 1: 19 → 24\): Capture is still writing\. Disable Capture/,
    );
    expect(await api.prisma.auditEvent.count({ where: { action: 'cutover.start' } })).toBe(0);

    const applied = await start(29, 24);
    expect(applied.status).toBe(200);
    expect(applied.body.result.data.deployment).toBeNull(); // this server has no deployer
    // The control plane's own lag probe reads the seeded checkpoints: nothing Capture landed waits.
    const { id } = (await api.prisma.topic.findUnique({ where: { slug: 'orders' } }))!;
    const { config: stored } = await loadAgentConfig(api.prisma, api.secrets, id);
    const lag = await readTopicLag(stored, { readEvents: false });
    expect(lag.partitions.map((p) => [p.partitionId, p.checkpoint?.sequenceNumber, p.lagEvents])).toEqual([
      ['0', 29, 0],
      ['1', 24, 0],
    ]);
    const [event] = await api.prisma.auditEvent.findMany({ where: { action: 'cutover.start' } });
    expect(event?.details).toMatchObject({
      name: 'orders',
      container: 'capture',
      partitions: [
        { partitionId: '0', captureLast: 29, hubcapFirst: 30 },
        { partitionId: '1', captureLast: 24, hubcapFirst: 25 },
      ],
    });
    // Applying the same plan again is a retry, not a conflict; any other plan now meets landed data.
    const retried = await start(29, 24);
    expect(retried.status).toBe(200);
    await send('0', 5);
    await upload(captureName('0', 10), await avroFile(records(30, 34)));
    const after = (await api.call('cutover.plan', location('orders'), viewer)).body.result.data;
    expect(after.blockers).toEqual([
      'the topic has already landed data (checkpoints on partition 0): a cutover starts a topic that has never run; create a new topic for this hub with its own consumer group',
    ]);

    // Hubcap's agents landed from 30 and 25; Capture's late window overlaps partition 0 by 30–34.
    const lake = await captureContainer('orders-lake');
    await lake
      .getBlockBlobClient(`a/${segmentFileName('0', 30, 40, '.ndjson')}`)
      .uploadData(Buffer.from('{}'));
    await lake
      .getBlockBlobClient(`a/${segmentFileName('1', 25, 26, '.ndjson')}`)
      .uploadData(Buffer.from('{}'));
    const report = await api.call('cutover.report', { ...location('orders'), direction: 'toHubcap' }, viewer);
    expect(report.status).toBe(200);
    expect(
      report.body.result.data.partitions.map((p: { partitionId: string; continuity: unknown }) => [
        p.partitionId,
        p.continuity,
      ]),
    ).toEqual([
      ['0', { state: 'overlap', from: 30, to: 34 }],
      ['1', { state: 'continuous' }],
    ]);
  });

  it('names what is wrong: a bad path format, a missing container, files that are not Capture’s, partitions without files, unreachable storage, running agents', {
    timeout: 60_000,
  }, async () => {
    await createTopic(api.prisma, api.secrets, config('payments'), { actor: 'system' });
    const bad = await api.call(
      'cutover.plan',
      { ...location('payments'), pathFormat: `../{Namespace}` },
      viewer,
    );
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body.error)).toMatch(
      /pathFormat: must not contain \\"\.\\" or \\"\.\.\\" path segments/,
    );

    const missing = await api.call('cutover.plan', location('payments', 'no-such-container'), viewer);
    expect(missing.status).toBe(404);
    expect(missing.body.error.message).toBe(
      'cannot list no-such-container/: container "no-such-container" does not exist',
    );

    const capture = await captureContainer('capture-payments');
    await capture
      .getBlockBlobClient(captureName('0', 0))
      .uploadData(
        await avroFile([{ id: 1 }], { type: 'record', name: 'Order', fields: [{ name: 'id', type: 'int' }] }),
      );
    const plan = (await api.call('cutover.plan', location('payments', 'capture-payments'), viewer)).body
      .result.data;
    expect(plan.fileProblems).toEqual([
      {
        file: captureName('0', 0),
        message: `${captureName('0', 0)}: is not Event Hubs Capture's schema (SequenceNumber: long, Offset: string, EnqueuedTimeUtc: string missing)`,
      },
    ]);
    expect(plan.blockers).toEqual([
      'partition 0: 1 newer file(s) cannot be read (listed below): repair or remove them first',
      'partition 1: Capture has no file for this partition in this container and path format',
    ]);
    const refused = await api.call(
      'cutover.start',
      { ...location('payments', 'capture-payments'), expected: [] },
      editor,
    );
    expect(refused.status).toBe(409);
    expect(refused.body.error.message).toMatch(/^the cutover cannot start: partition 0: /);

    // Agents of the topic run: the plan says how to proceed instead of starting a second reader.
    const { id } = (await api.prisma.topic.findUnique({ where: { slug: 'payments' } }))!;
    await api.prisma.deployment.create({
      data: { topicId: id, target: 'local', phase: 'running', configVersion: 1, desiredReplicas: 1 },
    });
    const running = (await api.call('cutover.plan', location('payments', 'capture-payments'), viewer)).body
      .result.data;
    expect(running.blockers[0]).toBe(
      'its agents are running: remove the deployment and wait until no agent reports, then scan again',
    );

    const offline =
      'DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=a2V5;BlobEndpoint=http://127.0.0.1:9/devstoreaccount1;';
    await createTopic(api.prisma, api.secrets, config('refunds', offline), { actor: 'system' });
    const unreachable = await api.call('cutover.plan', location('refunds'), viewer);
    expect(unreachable.status).toBe(502);
    expect(unreachable.body.error.message).toMatch(/^cannot list capture\//);
  });

  it('checks the plan against the hub: events past retention are named as lost, files past the hub refused', {
    timeout: 60_000,
  }, async () => {
    await createTopic(api.prisma, api.secrets, config('shipping', azurite.connectionString, 'short'), {
      actor: 'system',
    });
    await send('0', 30, 'short'); // the hub keeps only the last 10: 20–29
    const capture = await captureContainer('capture-short');
    await capture.getBlockBlobClient(captureName('0', 0, 'short')).uploadData(await avroFile(records(0, 9)));
    let plan = (await api.call('cutover.plan', location('shipping', 'capture-short'), viewer)).body.result
      .data;
    for (let i = 0; i < 20 && plan.warnings.length === 0; i++) {
      await new Promise((r) => setTimeout(r, 250)); // the server applies retention once a second
      plan = (await api.call('cutover.plan', location('shipping', 'capture-short'), viewer)).body.result.data;
    }
    expect(plan.warnings).toEqual([
      'partition 0: the hub no longer holds 10–19 (10 events past retention): landed by neither, they are lost at source',
    ]);
    expect(plan.blockers).toEqual([]);

    await capture
      .getBlockBlobClient(captureName('0', 5, 'short'))
      .uploadData(await avroFile(records(10, 500)));
    plan = (await api.call('cutover.plan', location('shipping', 'capture-short'), viewer)).body.result.data;
    expect(plan.blockers).toEqual([
      "partition 0: Capture's last event (500) is past the hub's last (29): these files are not this hub's (was it recreated?)",
    ]);
  });

  it('hands over nothing on a partition empty on the hub and in Capture, unless the topic would start at the latest event', {
    timeout: 60_000,
  }, async () => {
    await send('0', 10, 'sparse');
    const capture = await captureContainer('capture-sparse');
    await capture.getBlockBlobClient(captureName('0', 0, 'sparse')).uploadData(await avroFile(records(0, 9)));
    await createTopic(api.prisma, api.secrets, config('sparse', azurite.connectionString, 'sparse'), {
      actor: 'system',
    });
    const sparse = { ...location('sparse', 'capture-sparse') };
    const plan = (await api.call('cutover.plan', sparse, viewer)).body.result.data;
    expect(plan.blockers).toEqual([]);
    expect(plan.partitions[1]).toEqual({
      partitionId: '1',
      captureLast: null,
      hubcapFirst: null,
      problem: null,
    });
    const started = await api.call(
      'cutover.start',
      { ...sparse, expected: [{ partitionId: '0', sequenceNumber: 9 }] },
      editor,
    );
    expect(started.status).toBe(200);
    const checkpoints = BlobServiceClient.fromConnectionString(azurite.connectionString).getContainerClient(
      'sparse-checkpoints',
    );
    const names: string[] = [];
    for await (const blob of checkpoints.listBlobsFlat()) names.push(blob.name);
    expect(names).toEqual(['topics/sparse/127.0.0.1/sparse/sparse/checkpoint/0']);

    const latest = config('sparse-latest', azurite.connectionString, 'sparse');
    await createTopic(
      api.prisma,
      api.secrets,
      { ...latest, source: { ...latest.source, startPosition: 'latest' } },
      { actor: 'system' },
    );
    const refused = (await api.call('cutover.plan', location('sparse-latest', 'capture-sparse'), viewer)).body
      .result.data;
    expect(refused.blockers).toEqual([
      'partition 1: empty on the hub and in Capture, and the topic starts at the latest event where it has no checkpoint: set its start position to earliest, so events arriving before the agents start are landed',
    ]);
  });
});
