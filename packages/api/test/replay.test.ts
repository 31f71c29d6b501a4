// Replays through the service layer for real: the local runner starts the real agent as a one-off
// process, which fetches its window from this control plane over HTTP, lands it in Azurite and reports.
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { EventHubConsumerClient } from '@azure/event-hubs';
import { LocalRunner } from '@hubcap/deployer/local';
import { avroFile, captureName, records } from '@hubcap/lake/test/capture-files';
import { type Azurite, startAzurite } from '@hubcap/local-azurite';
import { type LocalEventHubs, startLocalEventHubs } from '@hubcap/local-eventhubs';
import {
  checkpointBlobPrefix,
  DEFAULT_CAPTURE_PATH_FORMAT,
  segmentFileName,
  type TopicConfigInput,
} from '@hubcap/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sendEvents } from './fixtures.ts';
import { type Harness, startHarness } from './harness.ts';

const AGENT_ENTRY = fileURLToPath(new URL('../../../apps/agent/src/main.ts', import.meta.url));

let api: Harness;
let hubs: LocalEventHubs;
let azurite: Azurite;
let runner: LocalRunner;
let server: ReturnType<typeof createServer>;
let editor: { cookie: string };
let viewer: { cookie: string };
let admin: { cookie: string };

async function body(req: IncomingMessage): Promise<string | undefined> {
  if (req.method !== 'POST') return undefined;
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

beforeAll(async () => {
  [hubs, azurite] = await Promise.all([
    startLocalEventHubs({
      hubs: [
        { name: 'orders', partitionCount: 2, consumerGroups: ['replays'] },
        { name: 'short', partitionCount: 1, retention: { maxEvents: 10 } },
        { name: 'rollback', partitionCount: 2, consumerGroups: ['overlap'] },
        { name: 'bounded', partitionCount: 2 },
      ],
    }),
    startAzurite(),
  ]);
  // The control plane over HTTP, as the agent reaches it.
  server = createServer(async (req, res) => {
    const response = await api.fetch(req.url!.replace(/^\/api\/trpc\//, ''), {
      method: req.method!,
      headers: Object.entries(req.headers).flatMap(([k, v]) => (typeof v === 'string' ? [[k, v]] : [])),
      body: await body(req),
    });
    res.writeHead(response.status, Object.fromEntries(response.headers)).end(await response.text());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  runner = new LocalRunner({
    agentEntry: AGENT_ENTRY,
    controlPlaneUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    env: { HUBCAP_MAX_WAIT_SECONDS: '0.2', HUBCAP_ALLOWED_ENDPOINTS: '127.0.0.1' },
    backoff: { initialMs: 200 },
    stopTimeoutMs: 20_000,
  });
  api = await startHarness({ deployer: runner });
  [editor, viewer, admin] = [
    { cookie: await api.signedIn('editor') },
    { cookie: await api.signedIn('viewer') },
    { cookie: await api.signedIn('admin') },
  ];
}, 120_000);
afterAll(async () => {
  await runner?.close();
  server?.close();
  await Promise.all([api?.close(), hubs?.close(), azurite?.close()]);
});

function config(topic: string, hub = 'orders'): TopicConfigInput {
  return {
    topic,
    source: {
      fullyQualifiedNamespace: `127.0.0.1:${hubs.port}`,
      eventHubName: hub,
      auth: { kind: 'connectionString', connectionString: hubs.connectionString() },
    },
    destination: {
      kind: 'azureBlob',
      account: { kind: 'connectionString', connectionString: azurite.connectionString },
      container: `${topic}-lake`,
      checkpointContainer: `${topic}-checkpoints`,
    },
    batching: { maxEvents: 5, maxAgeSeconds: 1 },
    reporting: { intervalSeconds: 1 },
  };
}

async function until<T>(what: string, probe: () => Promise<T | null | false>, ms = 60_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** A replay view's planned range per partition: [partition, first, last]. */
const rangesOf = (replay: {
  partitions: { partitionId: string; firstSequence: number | null; lastSequence: number | null }[];
}) => replay.partitions.map((p) => [p.partitionId, p.firstSequence, p.lastSequence]);
const list = async (name: string) => (await api.call('replay.list', { name }, viewer)).body.result.data;
const minutesAgo = (m: number) => new Date(Date.now() - m * 60_000).toISOString();

describe('replay procedures', () => {
  it('runs a replay as a local process to its end, with progress, a verify report and audit entries', {
    timeout: 120_000,
  }, async () => {
    expect((await api.call('topic.create', { config: config('orders') }, editor)).status).toBe(200);
    await sendEvents(hubs.connectionString(), 'orders', '0', 12);
    await sendEvents(hubs.connectionString(), 'orders', '1', 7);
    const started = await api.call(
      'replay.start',
      {
        topic: 'orders',
        from: minutesAgo(10),
        to: new Date().toISOString(),
        target: { kind: 'prefix', prefix: 'again' },
      },
      editor,
    );
    expect(started.status).toBe(200);
    const { id } = started.body.result.data;
    const done = await until('the replay to succeed with its verify report', async () => {
      const [r] = await list('orders');
      return r.state === 'succeeded' && r.verify ? r : null;
    });
    expect(done).toMatchObject({ id, events: 19, totalEvents: 19, partitionsDone: 2, secondsLeft: null });
    expect(done.verify).toMatchObject({ ok: true, problems: 0 });
    expect(done.verify.cells.map((c: { partition: string }) => c.partition).sort()).toEqual(['0', '1']);
    const names: string[] = [];
    for await (const b of azurite.service
      .getContainerClient('orders-lake')
      .listBlobsFlat({ prefix: 'again/' }))
      names.push(b.name);
    expect(names.length).toBeGreaterThanOrEqual(4);
    // The run's token ended with it; the runner's process is done.
    expect(await api.prisma.agentInstance.count({ where: { name: `replay-${id}`, revokedAt: null } })).toBe(
      0,
    );
    expect((await runner.jobStatus({ id: done.id, name: 'orders' }, `replay-${id}`)).phase).not.toBe(
      'running',
    );
    const audit = (await api.call('audit.list', {}, admin)).body.result.data;
    const actions = JSON.stringify(audit);
    expect(actions).toContain('replay.start');
    expect(actions).toContain('replay.finish');
  });

  it("into the topic's own layout while its agents are deployed, rewrites only up to their checkpoints", {
    timeout: 120_000,
  }, async () => {
    const created = await api.call('topic.create', { config: config('bounded', 'bounded') }, editor);
    expect(created.status).toBe(200);
    await sendEvents(hubs.connectionString(), 'bounded', '0', 10);
    await sendEvents(hubs.connectionString(), 'bounded', '1', 10);
    // Paused agents: partition 0 checkpointed 5, partition 1 nothing yet; they land the rest on resume.
    await api.prisma.deployment.create({
      data: {
        topicId: created.body.result.data.id,
        target: 'local',
        phase: 'paused',
        configVersion: 1,
        desiredReplicas: 1,
      },
    });
    const hub = new EventHubConsumerClient('$Default', hubs.connectionString(), 'bounded');
    const prefix = checkpointBlobPrefix('bounded', hub.fullyQualifiedNamespace, 'bounded', '$Default');
    await hub.close();
    const checkpoints = azurite.service.getContainerClient('bounded-checkpoints');
    await checkpoints.createIfNotExists();
    await checkpoints
      .getBlockBlobClient(`${prefix}0`)
      .upload('', 0, { metadata: { sequencenumber: '5', offset: '0' } });

    const started = await api.call(
      'replay.start',
      { topic: 'bounded', from: minutesAgo(10), to: new Date().toISOString(), target: { kind: 'ownLayout' } },
      editor,
    );
    expect(started.status, JSON.stringify(started.body)).toBe(200);
    const done = await until('the bounded replay to succeed', async () => {
      const [r] = await list('bounded');
      return r.state === 'succeeded' ? r : null;
    });
    expect(rangesOf(done)).toEqual([
      ['0', 0, 5],
      ['1', null, null],
    ]);
    expect(done).toMatchObject({ events: 6, totalEvents: 6 });
  });

  it('refuses bad windows with the field that is wrong, never a 500', async () => {
    const start = (input: Record<string, unknown>) =>
      api.call(
        'replay.start',
        { topic: 'orders', from: minutesAgo(10), to: minutesAgo(1), target: { kind: 'ownLayout' }, ...input },
        editor,
      );
    const fields = async (input: Record<string, unknown>) => {
      const res = await start(input);
      expect(res.status, JSON.stringify(res.body)).toBe(400);
      return res.body.error.data.fieldErrors;
    };
    expect(await fields({ to: minutesAgo(20) })).toEqual({ to: 'must be after the start' });
    expect(
      await fields({
        from: new Date(Date.now() + 3600_000).toISOString(),
        to: new Date(Date.now() + 7200_000).toISOString(),
      }),
    ).toMatchObject({
      from: 'must not be in the future',
    });
    expect(await fields({ from: '2000-01-01T00:00:00Z', to: '2026-01-01T00:00:00Z' })).toEqual({
      to: 'must be at most 90 days after the start',
    });
    expect(await fields({ target: { kind: 'prefix', prefix: 'a/../b' } })).toHaveProperty(['target.prefix']);
    expect(await fields({ target: { kind: 'prefix', prefix: '' } })).toHaveProperty(['target.prefix']);
    expect(await fields({ from: 'yesterday' })).toHaveProperty('from');
    expect(await fields({ startSequences: { '0': 2 ** 53 } })).toHaveProperty(['startSequences.0']);
    expect(await fields({ startSequences: { '9': 1 } })).toEqual({
      'startSequences.9': 'the hub has no partition "9" (it has 0, 1)',
    });
    // End sequences: bounded by the hub, the start, the schema; never a 500.
    expect(await fields({ endSequences: { '9': 1 } })).toEqual({
      'endSequences.9': 'the hub has no partition "9" (it has 0, 1)',
    });
    expect(await fields({ endSequences: { '1': 2 ** 31 } })).toEqual({
      'endSequences.1': `the partition holds no event at sequence ${2 ** 31} yet (last: 6)`,
    });
    expect(await fields({ endSequences: { '0': 2 ** 53 } })).toHaveProperty(['endSequences.0']);
    expect(await fields({ startSequences: { '0': 5 }, endSequences: { '0': 4 } })).toEqual({
      'endSequences.0': 'must not be below the start sequence (5)',
    });
    expect(await fields({ endSequences: { '0': '4' } })).toHaveProperty(['endSequences.0']);
    expect(await fields({ endSequences: { '0\u0000': 4 } })).toHaveProperty(['endSequences.0\u0000']);
    expect(await fields({ endSequences: { '0': 4, '0 ': 5 } })).toHaveProperty(['endSequences.0 ']);
    expect((await start({ topic: 'nope' })).status).toBe(404);
    expect(await api.prisma.replay.count({ where: { state: { not: 'succeeded' } } })).toBe(0);
  });

  it('refuses a window older than the retention, naming the earliest event per partition', async () => {
    expect((await api.call('topic.create', { config: config('short', 'short') }, editor)).status).toBe(200);
    await sendEvents(hubs.connectionString(), 'short', '0', 25);
    const res = await api.call(
      'replay.start',
      { topic: 'short', from: minutesAgo(30), to: new Date().toISOString(), target: { kind: 'ownLayout' } },
      editor,
    );
    expect(res.status).toBe(400);
    expect(res.body.error.data.fieldErrors.from).toMatch(
      /^events before .* are no longer in the hub \(retention\); earliest available: partition 0: \d{4}-.*Z \(sequence 15\)$/,
    );
    const seq = await api.call(
      'replay.start',
      {
        topic: 'short',
        from: minutesAgo(30),
        to: new Date().toISOString(),
        startSequences: { '0': 3 },
        target: { kind: 'ownLayout' },
      },
      editor,
    );
    expect(seq.body.error.data.fieldErrors['startSequences.0']).toMatch(
      /^sequence 3 is no longer in the hub/,
    );
  });

  it('cancels a running replay (the process stops); a topic is not deleted under a running replay', {
    timeout: 60_000,
  }, async () => {
    const start = await api.call(
      'replay.start',
      {
        topic: 'short',
        from: minutesAgo(1),
        to: new Date().toISOString(),
        startSequences: { '0': 20 },
        target: { kind: 'prefix', prefix: 'x' },
      },
      editor,
    );
    expect(start.status).toBe(200);
    const { id } = start.body.result.data;
    expect((await api.call('replay.cancel', { id }, viewer)).status).toBe(403);
    const cancelled = await api.call('replay.cancel', { id }, editor);
    expect(cancelled.body.result.data.state).toBe('cancelled');
    expect((await runner.jobStatus({ id: 'any', name: 'short' }, `replay-${id}`)).phase).toBe('deleted');
    expect((await api.call('replay.cancel', { id }, editor)).status).toBe(409);

    const second = await api.call(
      'replay.start',
      {
        topic: 'short',
        from: minutesAgo(1),
        to: new Date().toISOString(),
        startSequences: { '0': 20 },
        target: { kind: 'prefix', prefix: 'y' },
      },
      editor,
    );
    const topic = await api.prisma.topic.findUniqueOrThrow({ where: { slug: 'short' } });
    const refused = await api.call('topic.delete', { name: 'short' }, editor);
    expect(refused.status).toBe(409);
    expect(refused.body.error.message).toContain('a replay of "short" is running: cancel it first');
    await api.call('replay.cancel', { id: second.body.result.data.id }, editor);
    expect((await api.call('topic.delete', { name: 'short' }, editor)).status).toBe(200);
    expect(await api.prisma.replay.count({ where: { topicId: topic.id } })).toBe(0);
  });
});

describe('filling the gap of a rollback to Capture', () => {
  const location = (topic: string, container: string) => ({
    topic,
    container,
    pathFormat: DEFAULT_CAPTURE_PATH_FORMAT,
  });
  const send = (partitionId: string, count: number) =>
    sendEvents(hubs.connectionString(), 'rollback', partitionId, count);
  /** Capture's file of a window on this hub (the namespace is the host: 127.0.0.1). */
  const captured = async (container: string, p: string, minute: number, from: number, to: number) => {
    const capture = azurite.service.getContainerClient(container);
    await capture.createIfNotExists();
    const name = captureName(p, new Date(Date.UTC(2026, 10, 27, 9, minute)), '127.0.0.1', 'rollback');
    await capture.getBlockBlobClient(name).uploadData(await avroFile(records(from, to)));
  };
  /** A file Hubcap's agents landed, by its name (the report reads names only). */
  const landed = async (topic: string, p: string, first: number, last: number) => {
    const lake = azurite.service.getContainerClient(`${topic}-lake`);
    await lake.createIfNotExists();
    await lake
      .getBlockBlobClient(`old/${segmentFileName(p, first, last, '.ndjson')}`)
      .uploadData(Buffer.from('{}'));
  };
  const plan = async (topic: string, container: string) => {
    const res = await api.call('cutover.rollbackPlan', location(topic, container), viewer);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    return res.body.result.data;
  };
  const gaps = (p: { partitions: { partitionId: string; continuity: unknown; problem: string | null }[] }) =>
    p.partitions.map((r) => [r.partitionId, r.continuity, r.problem]);
  const fill = (
    topic: string,
    container: string,
    expected: { partitionId: string; from: number; to: number }[],
  ) => api.call('cutover.fillGap', { ...location(topic, container), expected }, editor);

  it('plans the gap from both sides, refuses until it can be filled, replays exactly it, and ends continuous', {
    timeout: 120_000,
  }, async () => {
    const topic = 'rollback';
    expect((await api.call('topic.create', { config: config(topic, 'rollback') }, editor)).status).toBe(200);
    await send('0', 20);
    await send('1', 20);
    // Hubcap's drained agents landed 0–11 of partition 0 and 0–19 of partition 1.
    await landed(topic, '0', 0, 11);
    await landed(topic, '1', 0, 19);

    // Capture is not enabled again yet: nothing proves where it starts.
    await azurite.service.getContainerClient('capture-rb').create();
    expect((await plan(topic, 'capture-rb')).blockers).toEqual([
      'Capture has written nothing since Hubcap took over: enable Capture on the event hub and wait one Capture time window, then scan again',
    ]);
    // Capture's first file on partition 0 starts at 15; partition 1 has had no event since.
    await captured('capture-rb', '0', 30, 15, 19);
    let shown = await plan(topic, 'capture-rb');
    expect(gaps(shown)).toEqual([
      ['0', { state: 'gap', from: 12, to: 14 }, null],
      [
        '1',
        { state: 'unknown', reason: 'nothing landed after the handover yet' },
        "Capture has written no file here since it was enabled again (a partition gets one with its next event): wait for Capture's next time window and scan again",
      ],
    ]);
    expect(shown.blockers).toEqual([`partition 1: ${shown.partitions[1].problem}`]);
    const early = await fill(topic, 'capture-rb', [{ partitionId: '0', from: 12, to: 14 }]);
    expect(early.status).toBe(409);
    expect(early.body.error.message).toMatch(
      /^the gap cannot be filled: partition 1: Capture has written no file/,
    );

    await send('1', 5);
    await captured('capture-rb', '1', 30, 20, 24);
    shown = await plan(topic, 'capture-rb');
    expect(gaps(shown)).toEqual([
      ['0', { state: 'gap', from: 12, to: 14 }, null],
      ['1', { state: 'continuous' }, null],
    ]);
    expect(shown.blockers).toEqual([]);

    // Agents still running (not drained): refused, with what to do.
    const { id: topicId } = await api.prisma.topic.findUniqueOrThrow({ where: { slug: topic } });
    await api.prisma.deployment.create({
      data: { topicId, target: 'local', phase: 'running', configVersion: 1, desiredReplicas: 1 },
    });
    const running = await fill(topic, 'capture-rb', [{ partitionId: '0', from: 12, to: 14 }]);
    expect(running.status).toBe(409);
    expect(running.body.error.message).toBe(
      "the gap cannot be filled: its agents are running: remove or pause the topic's deployment (the agents drain: every event they received is written and checkpointed) and wait until no agent reports, then scan again",
    );
    await api.prisma.deployment.update({ where: { topicId }, data: { phase: 'deleted' } });

    // A plan that is not the one now: refused, naming both.
    const stale = await fill(topic, 'capture-rb', [{ partitionId: '0', from: 12, to: 13 }]);
    expect(stale.status).toBe(409);
    expect(stale.body.error.message).toBe(
      'the gap changed since the plan was shown (0: 12–13 → 0: 12–14): scan again',
    );
    expect((await fill(topic, 'capture-rb', [{ partitionId: '0', from: 2 ** 53, to: 1 }])).status).toBe(400);
    expect(
      (await api.call('cutover.fillGap', { ...location(topic, 'capture-rb'), expected: [] }, viewer)).status,
    ).toBe(403);

    const started = await fill(topic, 'capture-rb', [{ partitionId: '0', from: 12, to: 14 }]);
    expect(started.status, JSON.stringify(started.body)).toBe(200);
    expect(started.body.result.data.replay).toMatchObject({
      target: { kind: 'ownLayout' },
      startSequences: { '0': 12 },
      endSequences: { '0': 14 },
    });
    const done = await until('the gap fill to succeed', async () => {
      const [r] = await list(topic);
      return r.state === 'succeeded' ? r : null;
    });
    // Exactly the gap: partition 1 is not replayed at all.
    expect(done).toMatchObject({ events: 3, totalEvents: 3 });
    expect(rangesOf(done)).toEqual([
      ['0', 12, 14],
      ['1', null, null],
    ]);
    const report = await api.call(
      'cutover.report',
      { ...location(topic, 'capture-rb'), direction: 'toCapture' },
      viewer,
    );
    expect(
      report.body.result.data.partitions.map(
        (p: {
          partitionId: string;
          before: { sequenceNumber: number };
          after: { sequenceNumber: number };
          continuity: unknown;
        }) => [p.partitionId, p.before.sequenceNumber, p.after.sequenceNumber, p.continuity],
      ),
    ).toEqual([
      ['0', 14, 15, { state: 'continuous' }],
      ['1', 19, 20, { state: 'continuous' }],
    ]);
    // Filled: a second fill is refused.
    const again = await fill(topic, 'capture-rb', []);
    expect(again.status).toBe(409);
    expect(again.body.error.message).toBe(
      "the gap cannot be filled: nothing to fill: on every partition Hubcap's last + 1 is Capture's first (the gap is filled)",
    );
    const audit = JSON.stringify((await api.call('audit.list', {}, admin)).body.result.data);
    expect(audit).toContain('cutover.fillGap');
  });

  it('refuses to fill when Capture overlaps Hubcap, naming the ranges', { timeout: 60_000 }, async () => {
    const topic = 'rollback-overlap';
    const input = config(topic, 'rollback');
    expect(
      (
        await api.call(
          'topic.create',
          { config: { ...input, source: { ...input.source, consumerGroup: 'overlap' } } },
          editor,
        )
      ).status,
    ).toBe(200);
    await landed(topic, '0', 0, 19);
    await landed(topic, '1', 0, 24);
    // Capture was enabled before the agents stopped.
    await captured('capture-ov', '0', 30, 15, 19);
    await captured('capture-ov', '1', 30, 20, 24);
    const shown = await plan(topic, 'capture-ov');
    expect(shown.blockers).toEqual([
      "nothing to fill: partition 0 overlaps 15–19, partition 1 overlaps 20–24 (Capture's first is not after Hubcap's last: both landed those events)",
    ]);
    expect(shown.warnings[0]).toBe(
      'partition 0: overlap 15–19 (5 events landed by both; Capture was enabled before the agents stopped): drop one copy downstream by (partition, SequenceNumber)',
    );
    const refused = await fill(topic, 'capture-ov', []);
    expect(refused.status).toBe(409);
    expect(refused.body.error.message).toMatch(
      /^the gap cannot be filled: nothing to fill: partition 0 overlaps 15–19/,
    );
  });

  it('fills only what the hub still holds of a gap, naming the rest as lost at source', {
    timeout: 60_000,
  }, async () => {
    // The hub "short" keeps its last 10 events: 15–24 of the 25 sent above.
    const topic = 'short-rollback';
    expect((await api.call('topic.create', { config: config(topic, 'short') }, editor)).status).toBe(200);
    await landed(topic, '0', 0, 9);
    const capture = azurite.service.getContainerClient('capture-short');
    await capture.createIfNotExists();
    await capture
      .getBlockBlobClient(captureName('0', new Date(Date.UTC(2026, 10, 27, 9, 30)), '127.0.0.1', 'short'))
      .uploadData(await avroFile(records(22, 24)));
    const shown = await plan(topic, 'capture-short');
    expect(gaps(shown)).toEqual([['0', { state: 'gap', from: 10, to: 21 }, null]]);
    expect(shown.warnings).toEqual([
      'partition 0: the hub no longer holds 10–14 (5 events past retention): landed by neither, they are lost at source',
    ]);
    const started = await fill(topic, 'capture-short', [{ partitionId: '0', from: 10, to: 21 }]);
    expect(started.status, JSON.stringify(started.body)).toBe(200);
    expect(started.body.result.data.replay).toMatchObject({
      startSequences: { '0': 15 },
      endSequences: { '0': 21 },
    });
  });
});
