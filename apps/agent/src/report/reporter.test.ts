import { TopicConfig } from '@hubcap/shared';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { startControlPlane } from '../../test/control-plane.ts';
import { AgentStatus } from '../runtime/status.ts';
import { createControlPlaneClient } from './control-plane-client.ts';
import { ReportBuilder, Reporter } from './reporter.ts';

const config = {
  topic: 'orders',
  source: {
    fullyQualifiedNamespace: 'ns.servicebus.windows.net',
    eventHubName: 'orders',
    auth: { kind: 'workloadIdentity' as const },
  },
  destination: { kind: 'localFolder' as const, path: '/tmp/x' },
};
const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

function status() {
  const s = new AgentStatus();
  s.setCheck('sink', true);
  s.setCheck('source', true);
  const p = s.partition('0');
  p.lastEnqueued = { sequenceNumber: 99, offset: '9900', enqueuedTime: new Date().toISOString() };
  p.lastCheckpointed = { sequenceNumber: 49, offset: '4900', enqueuedTime: new Date().toISOString() };
  p.eventsReceived = 100;
  return s;
}

const committedFile = {
  path: 'ns/orders/0/2026/03/07/09/05/02/0-00000000000000000000-00000000000000000099.ndjson.gz',
  partitionId: '0',
  events: 100,
  bytes: 20_480,
  firstSequenceNumber: 0,
  lastSequenceNumber: 99,
  committedAt: '2026-03-07T09:06:00.000Z',
};

const waitFor = async (check: () => boolean, ms = 5000) => {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
};

describe('control plane client and reporter', () => {
  it('fetches the config and sends valid reports with the bearer token', async () => {
    const cp = await startControlPlane({ config });
    closers.push(cp.close);
    const client = createControlPlaneClient({ url: cp.url, token: cp.token });
    expect(await client.fetchConfig()).toEqual({ version: 1, config: TopicConfig.parse(config) });
    // An editor saves version 2 while the agent runs version 1: the report's answer says so.
    expect(await cp.publish({ ...config, batching: { maxEvents: 10 } })).toBe(2);
    const s = status();
    s.recordError('sink', '503 ServerBusy', true);
    const versions: number[] = [];
    const reporter = new Reporter({
      client,
      builder: new ReportBuilder(s, {
        agentId: 'a-1',
        topic: 'orders',
        agentVersion: '0.1.0',
        configVersion: 1,
      }),
      status: s,
      intervalMs: 50,
      log: pino({ level: 'silent' }),
      onConfigVersion: (v) => versions.push(v),
    });
    reporter.start();
    await waitFor(() => cp.reports.length >= 2);
    await reporter.close();
    const first = cp.reports[0]!;
    expect(first).toMatchObject({ agentId: 'a-1', topic: 'orders', ready: true, configVersion: 1 });
    expect(first.partitions[0]).toMatchObject({ partitionId: '0', lagEvents: 50 });
    expect(first.errors).toHaveLength(1);
    expect(cp.reports[1]!.errors).toEqual([]);
    expect(versions[0]).toBe(2);
  });

  it('reports positions that cannot contradict each other, and lag from the checkpoint it resumed from', () => {
    const s = status();
    const p = s.partition('0');
    // The service's newest event is read every few seconds; events received since are newer.
    p.lastReceived = { sequenceNumber: 120, offset: '12000', enqueuedTime: new Date().toISOString() };
    // Restarted: no file written yet, but the checkpoint it resumed from is known.
    p.lastCheckpointed = null;
    p.resumedFrom = 110;
    const identity = { agentId: 'a-1', topic: 'orders', agentVersion: '0.1.0', configVersion: 7 };
    const [partition] = new ReportBuilder(s, identity).build().partitions;
    expect(partition).toMatchObject({ lastEnqueued: { sequenceNumber: 120 }, lagEvents: 10 });
  });

  it('rejects a wrong token', async () => {
    const cp = await startControlPlane({ config });
    closers.push(cp.close);
    await expect(
      createControlPlaneClient({ url: cp.url, token: 'nope' }).fetchConfig(),
    ).rejects.toMatchObject({
      message: 'a valid agent token is required',
      data: { httpStatus: 401 },
    });
  });

  it('keeps only the latest report while the control plane is down, backs off, and carries errors over', async () => {
    const cp = await startControlPlane({ config });
    closers.push(cp.close);
    cp.network.down = true;
    const s = status();
    s.recordError('source', 'link detached', true);
    s.files.push(committedFile);
    const reporter = new Reporter({
      client: createControlPlaneClient({ url: cp.url, token: cp.token, timeoutMs: 500 }),
      builder: new ReportBuilder(s, {
        agentId: 'a',
        topic: 'orders',
        agentVersion: '0',
        configVersion: undefined,
      }),
      status: s,
      intervalMs: 20,
      log: pino({ level: 'silent' }),
      backoff: { baseMs: 20, maxMs: 100 },
    });
    reporter.start();
    await waitFor(() => reporter.failed >= 3);
    cp.network.down = false;
    await waitFor(() => cp.reports.length >= 1);
    await reporter.close();
    expect(cp.reports[0]!.errors.map((e) => e.message)).toContain('link detached');
    expect(cp.reports[0]!.recentFiles).toEqual([committedFile]);
  });

  it('bounds what waits for the next report, oldest dropped first', () => {
    const s = status();
    for (let i = 0; i < 60; i++)
      s.files.push({ ...committedFile, firstSequenceNumber: i, lastSequenceNumber: i });
    const taken = s.files.take();
    expect(taken.map((f) => f.firstSequenceNumber)).toEqual([...Array(50).keys()].map((i) => i + 10));
    s.files.push({ ...committedFile, firstSequenceNumber: 99, lastSequenceNumber: 99 });
    s.files.restore(taken);
    expect(
      s.files
        .take()
        .map((f) => f.firstSequenceNumber)
        .slice(-2),
    ).toEqual([59, 99]);
  });

  it('gives up on a slow call after its timeout', async () => {
    const cp = await startControlPlane({ config });
    closers.push(cp.close);
    cp.network.delayMs = 2000;
    const client = createControlPlaneClient({ url: cp.url, token: cp.token, timeoutMs: 200 });
    const started = Date.now();
    await expect(
      client.report(
        new ReportBuilder(status(), {
          agentId: 'a',
          topic: 'orders',
          agentVersion: '0',
          configVersion: undefined,
        }).build(),
      ),
    ).rejects.toThrow();
    expect(Date.now() - started).toBeLessThan(1500);
  });
});
