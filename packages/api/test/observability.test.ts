import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runMaintenance } from '../src/services/maintenance.ts';
import { evaluateAlerts } from '../src/services/telemetry/alerts.ts';
import { pruneReplicas, REPLICA_RETENTION_MS } from '../src/services/telemetry/dead-letters.ts';
import { pruneMetrics, rollupMinutes } from '../src/services/telemetry/metrics.ts';
import { createTopic, issueAgentToken } from '../src/services/topics/topics.ts';
import { agentReport, settingsInput, topicConfig } from './fixtures.ts';
import { type Harness, startHarness } from './harness.ts';

let api: Harness;
let topicId: string;
let agentId: string;
let token: string;
let viewer: string;

beforeEach(async () => {
  api = await startHarness();
  ({ id: topicId } = await createTopic(api.prisma, api.secrets, topicConfig('orders'), { actor: 'system' }));
  ({ token, agentId } = await issueAgentToken(api.prisma, topicId, 'orders-0'));
  viewer = await api.signedIn('viewer');
});
afterEach(() => api.close());

/** Samples are timed on receipt: waits out the end of a minute so the next few reports share one. */
async function startOfMinuteIfLate(marginMs = 5000) {
  const left = 60_000 - (Date.now() % 60_000);
  if (left < marginMs) await new Promise((resolve) => setTimeout(resolve, left + 50));
}

/** A report from one replica of the topic's agent: totals since `startedAt` (100 events, 10 kB per file). */
async function sendTotals(replica: string, startedAt: string, files: number, rate = 0) {
  const res = await api.call(
    'agent.report',
    agentReport('orders', {
      agentId: replica,
      startedAt,
      filesWritten: files,
      eventsWritten: files * 100,
      bytesWritten: files * 10_000,
      eventsPerSecond: rate,
      bytesPerSecond: rate * 100,
    }),
    { token },
  );
  expect(res.status).toBe(200);
}

describe('reports feed the fleet and topic views', () => {
  it('stores errors and files, derives files per report, rolls up per minute, and shows status and rates', async () => {
    const at = new Date().toISOString();
    const file = (n: number) => ({
      path: `orders/0/${n}.ndjson.gz`,
      partitionId: '0',
      events: 10,
      bytes: 2048,
      firstSequenceNumber: n * 10,
      lastSequenceNumber: n * 10 + 9,
      committedAt: at,
    });
    const startedAt = new Date(Date.now() - 60_000).toISOString();
    await api.call(
      'agent.report',
      agentReport('orders', { startedAt, filesWritten: 3, recentFiles: [file(1), file(2), file(3)] }),
      { token },
    );
    await api.call(
      'agent.report',
      agentReport('orders', {
        startedAt,
        filesWritten: 5,
        errors: [{ at, kind: 'sink', message: 'blob upload timed out', partitionId: '1', retryable: true }],
      }),
      { token },
    );
    // A restarted agent starts counting again.
    const restartedAt = new Date(Date.now() - 1000).toISOString();
    await api.call('agent.report', agentReport('orders', { startedAt: restartedAt, filesWritten: 1 }), {
      token,
    });
    const deltas = await api.prisma.metricSample.findMany({
      orderBy: { id: 'asc' },
      select: { filesDelta: true },
    });
    expect(deltas.map((d) => d.filesDelta)).toEqual([3, 2, 1]);

    expect(await rollupMinutes(api.prisma, new Date(Date.now() - 5 * 60_000))).toBeGreaterThan(0);
    const fleet = (await api.call('topic.list', undefined, { cookie: viewer })).body.result.data;
    expect(fleet.topics[0]).toMatchObject({
      name: 'orders',
      status: 'healthy',
      partitions: 2,
      lagEvents: 60,
      lagSeconds: 4,
      eventsPerSecond: 50,
      megabytesPerSecond: 0.05,
      filesPerHour: 6,
      recentErrors: 1,
    });
    // An agent run by hand, with no deployment: watched, but not counted in the cost.
    expect(fleet.totals.captureMonthly).toBe(0);
    expect(fleet.cost.namespaces).toEqual([]);

    const detail = (await api.call('topic.get', { name: 'orders', range: '1h' }, { cookie: viewer })).body
      .result.data;
    expect(detail.recentFiles.map((f: { path: string }) => f.path)).toHaveLength(3);
    expect(detail.recentErrors[0]).toMatchObject({
      kind: 'sink',
      message: 'blob upload timed out',
      partitionId: '1',
    });
    expect(detail.partitions.map((p: { partitionId: string }) => p.partitionId)).toEqual(['0', '1']);
    expect(detail.series.length).toBeGreaterThan(0);
    const week = (await api.call('topic.get', { name: 'orders', range: '7d' }, { cookie: viewer })).body
      .result.data;
    expect(week.series[0].eventsPerSecond).toBe(50);
  });

  it('adds up replicas sharing one token, across restarts and retried or late reports', async () => {
    const T0 = new Date(Date.now() - 120_000).toISOString();
    const T1 = new Date(Date.now() - 30_000).toISOString();
    const send = (replica: string, startedAt: string, files: number, rate: number) =>
      sendTotals(replica, startedAt, files, rate);
    // Every sample in one minute, so the per-minute rates hold all replicas.
    await startOfMinuteIfLate();
    // Two replicas of one deployment, one token, interleaved totals since each one started.
    await send('orders-a', T0, 10, 30);
    await send('orders-b', T0, 4, 20);
    await send('orders-a', T0, 12, 30);
    await send('orders-b', T0, 7, 20);
    // A retried report and a late one (lower total) of replica a add nothing.
    await send('orders-a', T0, 12, 30);
    await send('orders-a', T0, 11, 30);
    // Replica b restarts: its total starts again from zero; a late report of its previous run adds nothing.
    await send('orders-b', T1, 2, 20);
    await send('orders-b', T0, 8, 20);
    await send('orders-b', T1, 5, 20);
    await send('orders-a', T0, 13, 30);

    const samples = await api.prisma.metricSample.findMany({
      orderBy: { id: 'asc' },
      select: { replicaId: true, filesDelta: true, eventsDelta: true, bytesDelta: true },
    });
    expect(samples.map((s) => [s.replicaId, s.filesDelta])).toEqual([
      ['orders-a', 10],
      ['orders-b', 4],
      ['orders-a', 2],
      ['orders-b', 3],
      ['orders-a', 0],
      ['orders-a', 0],
      ['orders-b', 2],
      ['orders-b', 0],
      ['orders-b', 3],
      ['orders-a', 1],
    ]);
    // a wrote 13 files, b 7 in its first run and 5 in its second.
    const files = 13 + 7 + 5;
    expect(samples.reduce((sum, s) => sum + s.filesDelta, 0)).toBe(files);
    expect(samples.reduce((sum, s) => sum + s.eventsDelta, 0n)).toBe(BigInt(files * 100));
    expect(samples.reduce((sum, s) => sum + s.bytesDelta, 0n)).toBe(BigInt(files * 10_000));
    expect(
      await api.prisma.agentReplica.findMany({
        orderBy: { replicaId: 'asc' },
        select: { replicaId: true, startedAt: true, filesWritten: true, eventsWritten: true },
      }),
    ).toEqual([
      { replicaId: 'orders-a', startedAt: new Date(T0), filesWritten: 13n, eventsWritten: 1300n },
      { replicaId: 'orders-b', startedAt: new Date(T1), filesWritten: 5n, eventsWritten: 500n },
    ]);

    await rollupMinutes(api.prisma, new Date(Date.now() - 5 * 60_000));
    const fleet = (await api.call('topic.list', undefined, { cookie: viewer })).body.result.data;
    expect(fleet.topics[0]).toMatchObject({
      name: 'orders',
      filesPerHour: files,
      eventsLastHour: files * 100,
      bytesLastHour: files * 10_000,
    });
    // Rates add up across replicas (each one averaged over its own reports), they are not averaged together.
    const minutes = await api.prisma.metricMinute.findMany({ select: { eventsPerSecond: true } });
    expect(minutes.map((m) => m.eventsPerSecond)).toEqual([50]);
    const detail = (await api.call('topic.get', { name: 'orders', range: '1h' }, { cookie: viewer })).body
      .result.data;
    expect(detail.filesPerHour).toBe(files);
    expect(detail.series.at(-1).eventsPerSecond).toBe(50);
  });

  it('rolls up a report whose agent clock is 10 minutes off, with its deltas', async () => {
    const minutes = 60_000;
    const startedAt = new Date(Date.now() - minutes).toISOString();
    const before = Date.now();
    for (const [replica, skew] of [
      ['orders-behind', -10 * minutes],
      ['orders-ahead', 10 * minutes],
    ] as const) {
      const res = await api.call(
        'agent.report',
        agentReport('orders', {
          agentId: replica,
          startedAt,
          sentAt: new Date(Date.now() + skew).toISOString(),
          filesWritten: 3,
          eventsWritten: 300,
          bytesWritten: 30_000,
        }),
        { token },
      );
      expect(res.status).toBe(200);
    }
    const after = Date.now();
    const samples = await api.prisma.metricSample.findMany({ select: { at: true } });
    expect(samples).toHaveLength(2);
    for (const { at } of samples) {
      expect(at.getTime()).toBeGreaterThanOrEqual(before);
      expect(at.getTime()).toBeLessThanOrEqual(after);
    }

    // The maintenance pass rolls up only the last 3 minutes, as it does every 30 s.
    const pass = await runMaintenance(api.prisma, api.secrets, { leaseMs: 0 });
    expect(pass?.rolled).toBeGreaterThan(0);
    const rolled = await api.prisma.metricMinute.findMany({
      where: { topicId },
      select: { files: true, events: true, bytes: true, samples: true },
    });
    const sum = (pick: (m: (typeof rolled)[number]) => number | bigint) =>
      rolled.reduce((total, m) => total + Number(pick(m)), 0);
    expect(sum((m) => m.samples)).toBe(2);
    expect(sum((m) => m.files)).toBe(6);
    expect(sum((m) => m.events)).toBe(600);
    expect(sum((m) => m.bytes)).toBe(60_000);
  });

  it('counts concurrent first reports of one replica once', async () => {
    const startedAt = new Date(Date.now() - 60_000).toISOString();
    const report = agentReport('orders', { agentId: 'orders-a', startedAt, filesWritten: 4 });
    const results = await Promise.all(
      Array.from({ length: 6 }, () => api.call('agent.report', report, { token })),
    );
    expect(results.map((r) => r.status)).toEqual([200, 200, 200, 200, 200, 200]);
    const samples = await api.prisma.metricSample.findMany({ select: { filesDelta: true } });
    expect(samples.map((s) => s.filesDelta).sort()).toEqual([0, 0, 0, 0, 0, 4]);
  });

  it("counts a replica's whole run on its first report, however late, and when its totals are zero", async () => {
    const send = (replica: string, startedAt: string, files: number) => sendTotals(replica, startedAt, files);
    const filesDeltas = async (replicaId: string) =>
      (
        await api.prisma.metricSample.findMany({
          where: { replicaId },
          orderBy: { id: 'asc' },
          select: { filesDelta: true },
        })
      ).map((s) => s.filesDelta);

    // A new replica whose first reports did not get through for half an hour: its files all count.
    const longAgo = new Date(Date.now() - 30 * 60_000).toISOString();
    await send('orders-late', longAgo, 40);
    expect(await filesDeltas('orders-late')).toEqual([40]);

    // A row whose totals are zero, as 20261124135036_replica_totals leaves known replicas, counts the
    // run's whole totals on its next report (the spike described in packages/db/README.md) ...
    await send('orders-upgraded', longAgo, 10);
    await api.prisma.agentReplica.update({
      where: { topicId_replicaId: { topicId, replicaId: 'orders-upgraded' } },
      data: { eventsWritten: 0n, bytesWritten: 0n, filesWritten: 0n },
    });
    await send('orders-upgraded', longAgo, 12);
    expect(await filesDeltas('orders-upgraded')).toEqual([10, 12]);

    // ... and so does a replica forgotten after a week of silence that reports again.
    expect(await pruneReplicas(api.prisma, new Date(Date.now() + REPLICA_RETENTION_MS + 60_000))).toBe(2);
    await send('orders-late', longAgo, 41);
    expect(await filesDeltas('orders-late')).toEqual([40, 41]);
  });

  it('rejects a bad range or name with a field message', async () => {
    const res = await api.call('topic.get', { name: 'orders', range: '2y' }, { cookie: viewer });
    expect(res.status).toBe(400);
    expect(res.body.error.data.fieldErrors.range).toMatch(/must be one of/);
    expect((await api.call('topic.get', { name: 'nope', range: '1h' }, { cookie: viewer })).status).toBe(404);
  });
});

describe('alerts', () => {
  it('opens lag, silent and error alerts, sends them to the webhook, resolves them, and never shows the URL', async () => {
    const admin = await api.signedIn('admin');
    const update = await api.call(
      'settings.update',
      { ...settingsInput, webhook: { action: 'set', url: 'https://hooks.example.com/T0KEN-SECRET' } },
      { cookie: admin },
    );
    expect(update.status).toBe(200);
    const view = await api.call('settings.get', undefined, { cookie: viewer });
    expect(view.body.result.data.webhookConfigured).toBe(true);
    expect(JSON.stringify(view.body)).not.toContain('T0KEN-SECRET');
    expect(JSON.stringify(await api.prisma.auditEvent.findMany())).not.toContain('T0KEN-SECRET');

    const now = new Date();
    await api.prisma.metricSample.createMany({
      data: Array.from({ length: 7 }, (_, i) => ({
        topicId,
        agentInstanceId: agentId,
        at: new Date(now.getTime() - (6 - i) * 60_000),
        eventsPerSecond: 10,
        bytesPerSecond: 1000,
        lagEvents: 5000n,
        lagSeconds: 900,
        filesWritten: 0,
        errorCount: 0,
      })),
    });
    await api.prisma.agentInstance.update({
      where: { id: agentId },
      data: { lastSeenAt: new Date(now.getTime() - 10 * 60_000) },
    });
    await api.prisma.topicError.createMany({
      data: Array.from({ length: 3 }, () => ({
        topicId,
        at: now,
        kind: 'source' as const,
        message: 'link detached',
        retryable: true,
      })),
    });

    const sent: { url: string; body: { kind: string; state: string; topic: string } }[] = [];
    const notify = async (url: string, body: unknown) => {
      sent.push({ url, body: body as (typeof sent)[number]['body'] });
    };
    expect(await evaluateAlerts(api.prisma, api.secrets, { now, notify })).toEqual({
      opened: 3,
      resolved: 0,
    });
    expect(sent.map((s) => `${s.body.topic}/${s.body.kind}/${s.body.state}`).sort()).toEqual([
      'orders/errors/open',
      'orders/lag/open',
      'orders/silent/open',
    ]);
    expect(sent[0]!.url).toBe('https://hooks.example.com/T0KEN-SECRET');
    // Evaluating again opens nothing new and sends nothing again.
    expect(await evaluateAlerts(api.prisma, api.secrets, { now, notify })).toEqual({
      opened: 0,
      resolved: 0,
    });
    expect(sent).toHaveLength(3);

    const list = (await api.call('alert.list', { state: 'open' }, { cookie: viewer })).body.result.data;
    expect(list.map((a: { kind: string }) => a.kind).sort()).toEqual(['errors', 'lag', 'silent']);
    expect(
      (await api.call('topic.list', undefined, { cookie: viewer })).body.result.data.topics[0].openAlerts,
    ).toBe(3);

    // The agent reports again with low lag, the errors age out: everything resolves.
    await api.call('agent.report', agentReport('orders'), { token });
    const later = new Date(now.getTime() + 11 * 60_000);
    await api.prisma.agentInstance.update({ where: { id: agentId }, data: { lastSeenAt: later } });
    await api.prisma.metricSample.create({
      data: {
        topicId,
        agentInstanceId: agentId,
        at: new Date(later.getTime() - 4 * 60_000),
        eventsPerSecond: 1,
        bytesPerSecond: 1,
        lagEvents: 1n,
        lagSeconds: 1,
        filesWritten: 0,
        errorCount: 0,
      },
    });
    expect(await evaluateAlerts(api.prisma, api.secrets, { now: later, notify })).toEqual({
      opened: 0,
      resolved: 3,
    });
    expect(sent.filter((s) => s.body.state === 'resolved')).toHaveLength(3);
  });

  it('names bad settings fields and changes nothing', async () => {
    const admin = await api.signedIn('admin');
    const res = await api.call(
      'settings.update',
      {
        ...settingsInput,
        alerts: { ...settingsInput.alerts, lagSeconds: -1 },
        webhook: { action: 'set', url: 'ftp://x' },
      },
      { cookie: admin },
    );
    expect(res.status).toBe(400);
    expect(res.body.error.data.fieldErrors).toEqual({
      'alerts.lagSeconds': 'must be at least 1',
      'webhook.url': 'must be an http(s) URL',
    });
    expect(await api.prisma.setting.count()).toBe(0);
  });
});

describe('metrics retention', () => {
  it('prunes raw samples after the raw retention and aggregates after the minute retention', async () => {
    const now = new Date();
    const hoursAgo = (h: number) => new Date(now.getTime() - h * 3_600_000);
    const sample = (at: Date) => ({
      topicId,
      agentInstanceId: agentId,
      at,
      eventsPerSecond: 1,
      bytesPerSecond: 1,
      lagEvents: 0n,
      lagSeconds: 0,
      filesWritten: 0,
      errorCount: 0,
    });
    await api.prisma.metricSample.createMany({ data: [sample(hoursAgo(30)), sample(hoursAgo(2))] });
    await rollupMinutes(api.prisma, hoursAgo(31), now);
    await api.prisma.metricMinute.create({
      data: {
        topicId,
        minute: hoursAgo(24 * 40),
        eventsPerSecond: 1,
        bytesPerSecond: 1,
        lagEvents: 0n,
        lagSeconds: 0,
        files: 0,
        errors: 0,
        samples: 1,
      },
    });
    const pruned = await pruneMetrics(api.prisma, { rawHours: 24, minuteDays: 30 }, now);
    expect(pruned).toMatchObject({ samples: 1, minutes: 1 });
    expect(await api.prisma.metricSample.count()).toBe(1);
    expect(await api.prisma.metricMinute.count()).toBe(2);
  });
});
