import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLocalEventHubs } from '@hubcap/local-eventhubs';
import type { TopicConfigInput } from '@hubcap/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startControlPlane } from './control-plane.ts';
import { produce, startAgent } from './harness.ts';
import { decodeNdjson } from './read-back.ts';

let eh: Awaited<ReturnType<typeof startLocalEventHubs>>;
beforeAll(async () => {
  eh = await startLocalEventHubs({ hubs: [{ name: 'life', partitionCount: 2 }], port: 0 });
});
afterAll(async () => {
  await eh?.close();
});

const source = () => ({
  fullyQualifiedNamespace: `127.0.0.1:${eh.port}`,
  eventHubName: 'life',
  consumerGroup: '$Default',
  auth: { kind: 'connectionString' as const, connectionString: eh.connectionString('life') },
});

const waitUntil = async (check: () => boolean, what: string, ms = 30_000) => {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
};

async function readIds(dir: string): Promise<{ ids: string[]; files: string[] }> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  const files = entries
    .filter((e) => e.isFile() && !e.parentPath.includes('.hubcap'))
    .map((e) => join(e.parentPath, e.name));
  const ids = (await Promise.all(files.map(async (f) => decodeNdjson(f, await readFile(f)))))
    .flat()
    .map((l) => (JSON.parse(l) as { id: string }).id);
  return { ids, files };
}

describe('agent process: signals during start-up', () => {
  // The modules may or may not have finished loading when the signal lands (it is sent right after
  // the first line, which is written before they load): either way the exit is clean and logged.
  it('exits 0 with a log line on SIGTERM right after its first line, before ingesting', async () => {
    const agent = startAgent({
      topic: 'life',
      source: source(),
      destination: { kind: 'localFolder', path: join(tmpdir(), 'hubcap-unused') },
    });
    await agent.waitForLine((l) => l.msg === 'loading');
    agent.kill('SIGTERM');
    expect(await agent.exited).toBe(0);
    const stop = agent.lines.find((l) => /"msg":"stopping(:| during start-up)/.test(l));
    expect(JSON.parse(stop!)).toMatchObject({ signal: 'SIGTERM' });
    expect(agent.lines.some((l) => l.includes('"msg":"ingesting"'))).toBe(false);
  });

  it('exits 0 with a log line on SIGTERM while the config is being fetched', async () => {
    const cp = await startControlPlane({
      config: {
        topic: 'life',
        source: source(),
        destination: { kind: 'localFolder', path: join(tmpdir(), 'hubcap-unused') },
      },
    });
    cp.network.configDelayMs = 60_000;
    const agent = startAgent(
      { topic: 'unused', source: source(), destination: { kind: 'localFolder', path: '/tmp/x' } },
      { HUBCAP_CONFIG: '', HUBCAP_CONTROL_PLANE_URL: cp.url, HUBCAP_AGENT_TOKEN: cp.token },
    );
    try {
      await waitUntil(() => cp.network.configRequests > 0, 'the config request');
      agent.kill('SIGTERM');
      expect(await agent.exited).toBe(0);
      const line = agent.lines.find((l) => l.includes('stopping during start-up'));
      expect(JSON.parse(line!)).toMatchObject({ signal: 'SIGTERM', service: 'hubcap-agent' });
    } finally {
      agent.kill();
      await cp.close();
    }
  });
});

describe('agent process: a new config version from the control plane', () => {
  it('switches in process to a version it can take in place, waits for a restart for a new file layout; every event once', {
    timeout: 150_000,
  }, async () => {
    const dir = await mkdtemp(join(tmpdir(), 'hubcap-reload-'));
    const v1: TopicConfigInput = {
      topic: 'life',
      source: source(),
      destination: { kind: 'localFolder', path: dir },
      pathTemplate: 'v1/{partition}',
      format: { type: 'ndjson', compression: 'gzip' },
      // Segments stay open until the switch drains them.
      batching: { maxAgeSeconds: 600 },
      reporting: { intervalSeconds: 1 },
    };
    const cp = await startControlPlane({ config: v1 });
    const env = { HUBCAP_CONFIG: '', HUBCAP_CONTROL_PLANE_URL: cp.url, HUBCAP_AGENT_TOKEN: cp.token };
    const unused = {
      topic: 'unused',
      source: source(),
      destination: { kind: 'localFolder', path: dir },
    } as const;
    let agent = startAgent(unused, env);
    try {
      await agent.waitForLine((l) => l.msg === 'ingesting', 30_000);
      await produce(eh.connectionString('life'), 'life', ['0', '1'], 30, { from: 0 });
      await waitUntil(
        () => cp.reports.some((r) => r.partitions.reduce((n, p) => n + (p.lastReceived ? 1 : 0), 0) === 2),
        'both partitions received',
      );
      // Every received event sits in an open segment now; the switch must publish and checkpoint them.
      const v2: TopicConfigInput = { ...v1, batching: { maxAgeSeconds: 1 } };
      expect(await cp.publish(v2)).toBe(2);
      const applied = await agent.waitForLine((l) => l.msg === 'config applied; restarting ingestion');
      expect(applied).toMatchObject({ configVersion: 2, drained: true });
      await agent.waitForLine(
        (l) => l.msg === 'ingesting' && agent.lines.some((x) => x.includes('config applied')),
      );
      await produce(eh.connectionString('life'), 'life', ['0', '1'], 30, { from: 100 });

      // A new file layout is never taken in place: with several replicas, old and new would overlap.
      const v4: TopicConfigInput = {
        ...v2,
        pathTemplate: 'v2/{partition}',
        format: { type: 'ndjson', compression: 'zstd' },
      };
      expect(await cp.publish(v4)).toBe(3);
      const deferred = await agent.waitForLine((l) =>
        String(l.msg).startsWith('new config version needs a new process'),
      );
      expect(deferred).toMatchObject({ configVersion: 3, running: 2 });
      await waitUntil(
        () =>
          cp.reports.some((r) => r.configIssue?.version === 3 && r.configIssue.kind === 'awaitingRestart'),
        'the version awaiting a restart in a report',
      );
      await produce(eh.connectionString('life'), 'life', ['0', '1'], 30, { from: 200 });
      await waitUntil(() => cp.reports.at(-1)!.eventsWritten >= 180, 'all events written with layout 1');
      expect(cp.reports.at(-1)!.configVersion).toBe(2);

      // What the control plane does for it (Recreate): the old process drains and stops, then the new starts.
      agent.kill('SIGTERM');
      expect(await agent.exited).toBe(0);
      agent = startAgent(unused, env);
      await agent.waitForLine((l) => l.msg === 'ingesting', 30_000);
      await produce(eh.connectionString('life'), 'life', ['0', '1'], 30, { from: 300 });
      await waitUntil(
        () => cp.reports.at(-1)!.configVersion === 3 && cp.reports.at(-1)!.eventsWritten >= 60,
        'the new layout written',
      );
      expect(cp.reports.at(-1)!.configIssue).toBeUndefined();
      agent.kill('SIGTERM');
      expect(await agent.exited).toBe(0);

      const { ids, files } = await readIds(dir);
      const expected = ['0', '1'].flatMap((p) =>
        [0, 100, 200, 300].flatMap((from) => Array.from({ length: 30 }, (_, i) => `${p}-${from + i}`)),
      );
      expect(ids.sort()).toEqual(expected.sort());
      const v1Files = files.filter((f) => f.includes(`${dir}/v1/`));
      const v2Files = files.filter((f) => f.includes(`${dir}/v2/`));
      expect(v1Files.every((f) => f.endsWith('.ndjson.gz'))).toBe(true);
      expect(v2Files.length).toBeGreaterThan(0);
      expect(v2Files.every((f) => f.endsWith('.ndjson.zst'))).toBe(true);
      const v2Ids = (await readIds(join(dir, 'v2'))).ids;
      expect(v2Ids.sort()).toEqual(
        ['0', '1'].flatMap((p) => Array.from({ length: 30 }, (_, i) => `${p}-${300 + i}`)).sort(),
      );
    } finally {
      agent.kill();
      await cp.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
