import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Azurite, startAzurite } from '@hubcap/local-azurite';
import { startLocalEventHubs } from '@hubcap/local-eventhubs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startControlPlane } from './control-plane.ts';
import { AGENT_MAIN, produce, startAgent } from './harness.ts';
import { decodeNdjson } from './read-back.ts';

let eh: Awaited<ReturnType<typeof startLocalEventHubs>>;
let azurite: Azurite;
beforeAll(async () => {
  eh = await startLocalEventHubs({ hubs: [{ name: 'ops', partitionCount: 2 }], port: 0 });
  azurite = await startAzurite();
});
afterAll(async () => {
  await azurite?.close();
  await eh?.close();
});

const source = () => ({
  fullyQualifiedNamespace: `127.0.0.1:${eh.port}`,
  eventHubName: 'ops',
  auth: { kind: 'connectionString' as const, connectionString: eh.connectionString('ops') },
});

async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile() && !e.parentPath.includes('.hubcap'))
    .map((e) => join(e.parentPath, e.name));
}

describe('agent process', () => {
  it('refuses a bad config with one plain line per problem and no stack trace', async () => {
    const child = spawn(process.execPath, [AGENT_MAIN], {
      env: {
        PATH: process.env.PATH ?? '',
        HUBCAP_CONFIG: JSON.stringify({ topic: 'Bad!', source: source(), destination: { kind: 'ftp' } }),
      },
    });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const [code] = await once(child, 'exit');
    expect(code).toBe(2);
    expect(stderr).toBe(
      'hubcap-agent: HUBCAP_CONFIG is invalid:\n' +
        '  - topic: use lower-case letters, digits and dashes, starting and ending with a letter or digit\n' +
        '  - destination.kind: must be "azureBlob" or "localFolder"\n',
    );
  });

  it('stays up but not ready while its container is missing, then recovers, sweeps an old staging blob; drains on SIGTERM', {
    timeout: 60_000,
  }, async () => {
    const agent = startAgent(
      {
        topic: 'ops',
        source: source(),
        destination: {
          kind: 'azureBlob',
          account: { kind: 'connectionString', connectionString: azurite.connectionString },
          container: 'late-lake',
          checkpointContainer: 'late-checkpoints',
        },
        batching: { maxAgeSeconds: 1 },
      },
      // Not allowed to create containers: it waits for someone to create them.
      { HUBCAP_STAGING_SWEEP_AFTER_SECONDS: '1', HUBCAP_CREATE_CONTAINERS: 'false' },
    );
    try {
      const { port } = (await agent.waitForLine((l) => typeof l.port === 'number')) as { port: number };
      await agent.waitForLine((l) => l.msg === 'sink not usable yet; retrying');
      const base = `http://127.0.0.1:${port}`;
      expect((await fetch(`${base}/healthz`)).status).toBe(200);
      const notReady = await fetch(`${base}/readyz`);
      expect(notReady.status).toBe(503);
      expect(JSON.stringify(await notReady.json())).toContain(
        'destination container \\"late-lake\\" does not exist in storage account \\"devstoreaccount1\\": create it, or let the agent create it (HUBCAP_CREATE_CONTAINERS=true)',
      );

      // A staging blob a killed agent left behind (committed, never published).
      const checkpoints = await azurite.container('late-checkpoints');
      const orphan = 'staging/ops/1-00000000000000000007.0123456789ab';
      await checkpoints.getBlockBlobClient(orphan).upload('orphan', 6);
      await new Promise((r) => setTimeout(r, 1100)); // older than the 1 s sweep age
      const lake = await azurite.container('late-lake');
      const swept = await agent.waitForLine((l) => l.msg === 'removed staging data left by stopped agents');
      expect(swept).toMatchObject({ removed: 1, names: [orphan] });
      expect(await checkpoints.getBlobClient(orphan).exists()).toBe(false);
      await agent.waitForLine((l) => l.msg === 'ingesting', 30_000);
      expect((await fetch(`${base}/readyz`)).status).toBe(200);

      await produce(eh.connectionString('ops'), 'ops', ['0', '1'], 50);
      await agent.waitForLine((l) => l.msg === 'file written', 20_000);
      const metrics = await (await fetch(`${base}/metrics`)).text();
      expect(metrics).toMatch(/hubcap_events_received_total\{partition="\d"\} \d+/);
      expect(metrics).toMatch(/hubcap_flush_duration_seconds_bucket/);
      expect(metrics).toMatch(/hubcap_partition_lag_events/);
      expect(metrics).toMatch(/hubcap_staging_swept_total 1/);

      agent.kill('SIGTERM');
      expect(await agent.exited).toBe(0);
      const names: string[] = [];
      for await (const b of lake.listBlobsFlat()) names.push(b.name);
      expect(names.length).toBeGreaterThan(0);
      expect(agent.lines.some((l) => l.includes('AccountKey=Eby8'))).toBe(false);
    } finally {
      agent.kill();
    }
  });

  it('runs from the control plane config into a local folder and reports there', {
    timeout: 60_000,
  }, async () => {
    const dir = await mkdtemp(join(tmpdir(), 'hubcap-agent-local-'));
    const cp = await startControlPlane({
      config: {
        topic: 'ops-local',
        source: { ...source(), consumerGroup: '$Default' },
        destination: { kind: 'localFolder', path: dir },
        pathTemplate: '{topic}/{partition}',
        format: { type: 'ndjson', compression: 'zstd' },
        batching: { maxAgeSeconds: 1 },
        reporting: { intervalSeconds: 1 },
      },
    });
    const agent = startAgent(
      { topic: 'unused', source: source(), destination: { kind: 'localFolder', path: dir } },
      { HUBCAP_CONFIG: '', HUBCAP_CONTROL_PLANE_URL: cp.url, HUBCAP_AGENT_TOKEN: cp.token },
    );
    try {
      await agent.waitForLine((l) => l.msg === 'ingesting', 30_000);
      await produce(eh.connectionString('ops'), 'ops', ['0', '1'], 20, { from: 1000 });
      const deadline = Date.now() + 30_000;
      while (Date.now() < deadline && !cp.reports.some((r) => r.eventsWritten > 0))
        await new Promise((r) => setTimeout(r, 200));
      agent.kill('SIGTERM');
      expect(await agent.exited).toBe(0);
      const report = cp.reports.find((r) => r.eventsWritten > 0)!;
      expect(report).toMatchObject({ topic: 'ops-local', configVersion: 1, ready: true });
      const files = await listFiles(join(dir, 'ops-local'));
      expect(files.every((f) => f.endsWith('.ndjson.zst'))).toBe(true);
      const ids = (await Promise.all(files.map(async (f) => decodeNdjson(f, await readFile(f)))))
        .flat()
        .map((l) => JSON.parse(l).id);
      expect(ids.filter((id: string) => Number(id.split('-')[1]) >= 1000).sort()).toEqual(
        ['0', '1'].flatMap((p) => Array.from({ length: 20 }, (_, i) => `${p}-${1000 + i}`)).sort(),
      );
    } finally {
      agent.kill();
      await cp.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
