import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRng, sampleEvent, startLocalEventHubs, startSampleTraffic } from '@hubcap/local-eventhubs';
import type { TopicConfigInput } from '@hubcap/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DeadLetterRecord } from '../src/pipeline/dead-letter.ts';
import { startControlPlane } from './control-plane.ts';
import { startAgent } from './harness.ts';
import { readParquet } from './read-back.ts';

let eh: Awaited<ReturnType<typeof startLocalEventHubs>>;
beforeAll(async () => {
  eh = await startLocalEventHubs({ hubs: [{ name: 'gateway', partitionCount: 2 }], port: 0 });
});
afterAll(async () => {
  await eh?.close();
});

/** The events startSampleTraffic sends for these options (it is deterministic by seed). */
function expected(seed: number, count: number, options: { newFieldShare: number; nonJsonShare: number }) {
  const rng = createRng(seed);
  return Array.from({ length: count }, (_, i) => sampleEvent(i, rng, options));
}

async function files(dir: string, suffix: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries.filter((e) => e.isFile() && e.name.endsWith(suffix)).map((e) => join(e.parentPath, e.name));
}

describe('agent process, Parquet', () => {
  it('lands sample traffic as Parquet with a new field appearing later, dead-letters plain text, reports both', {
    timeout: 90_000,
  }, async () => {
    const dir = await mkdtemp(join(tmpdir(), 'hubcap-parquet-agent-'));
    const config: TopicConfigInput = {
      topic: 'gateway',
      source: {
        fullyQualifiedNamespace: `127.0.0.1:${eh.port}`,
        eventHubName: 'gateway',
        auth: { kind: 'connectionString', connectionString: eh.connectionString('gateway') },
      },
      destination: { kind: 'localFolder', path: dir },
      pathTemplate: '{topic}/{partition}',
      format: { type: 'parquet' },
      batching: { maxAgeSeconds: 1 },
      reporting: { intervalSeconds: 1 },
    };
    const cp = await startControlPlane({ config });
    const agent = startAgent(config, {
      HUBCAP_CONTROL_PLANE_URL: cp.url,
      HUBCAP_AGENT_TOKEN: cp.token,
      HUBCAP_SPILL_DIR: join(dir, '.spill'),
    });
    const phase1 = { newFieldShare: 0, nonJsonShare: 0.05 };
    const phase2 = { newFieldShare: 0.5, nonJsonShare: 0.05 };
    const sent = [...expected(1, 400, phase1), ...expected(2, 400, phase2)];
    const plain = sent.filter((e) => !e.json);
    const rowsIn = async () => {
      const parquet = await files(join(dir, 'gateway'), '.parquet');
      return parquet.length ? (await readParquet(parquet, { select: 'requestId' })).length : 0;
    };
    const waitForRows = async (n: number) => {
      const deadline = Date.now() + 40_000;
      while (Date.now() < deadline && (await rowsIn()) < n) await new Promise((r) => setTimeout(r, 300));
    };
    try {
      await agent.waitForLine((l) => l.msg === 'ingesting', 30_000);
      const connectionString = eh.connectionString('gateway');
      await startSampleTraffic({ connectionString, hub: 'gateway', count: 400, seed: 1, ...phase1 }).done;
      await waitForRows(sent.slice(0, 400).filter((e) => e.json).length);
      await startSampleTraffic({ connectionString, hub: 'gateway', count: 400, seed: 2, ...phase2 }).done;
      await waitForRows(sent.length - plain.length);
      await new Promise((r) => setTimeout(r, 1500)); // one more report
      agent.kill('SIGTERM');
      expect(await agent.exited).toBe(0);

      // Every JSON event is a row, every value where it belongs (files read together by column name).
      const parquet = await files(join(dir, 'gateway'), '.parquet');
      const rows = await readParquet(parquet, {
        select: 'requestId, status, "user".name AS userName, headers, geo, latencyMs',
        orderBy: 'requestId',
      });
      const json = sent.filter((e) => e.json).map((e) => e.json!);
      expect(rows.map((r) => r.requestId)).toEqual(json.map((e) => e.requestId).sort());
      const byId = new Map(rows.map((r) => [r.requestId, r]));
      for (const e of json) {
        const row = byId.get(e.requestId)!;
        expect(row.status).toBe(String(e.status));
        expect(row.userName).toBe(e.user.name);
        expect(row.latencyMs).toBe(e.latencyMs);
        expect(row.headers).toContainEqual({ key: 'x-request-id', value: e.requestId });
        expect(row.geo).toEqual(e.geo ?? null);
      }
      expect(json.some((e) => e.geo)).toBe(true);

      // Plain-text bodies are dead letters, byte for byte, beside the data.
      const deadFiles = await files(join(dir, '_deadletter'), '.ndjson');
      const dead = (await Promise.all(deadFiles.map((f) => readFile(f, 'utf8'))))
        .flatMap((text) => text.trim().split('\n'))
        .map((line) => JSON.parse(line) as DeadLetterRecord);
      // (The sender stamps live times into the text: compare the request ids.)
      const requestOf = (text: string) => /req=(\S+)/.exec(text)?.[1];
      expect(dead.map((d) => requestOf(Buffer.from(d.bodyBase64, 'base64').toString())).sort()).toEqual(
        plain.map((e) => requestOf(e.body.toString())).sort(),
      );
      expect(dead.every((d) => d.reason === 'not-json' && ['0', '1'].includes(d.partitionId))).toBe(true);

      // Reports: dead letters counted; a first schema, then one with the new `geo` struct.
      const last = cp.reports.at(-1)!;
      expect(last.deadLettered).toBe(plain.length);
      expect(last.deadLetteredByReason).toEqual({ 'not-json': plain.length });
      const versions = cp.reports.flatMap((r) => r.schemaVersions ?? []);
      const paths = versions.map((v) => v.fields.map((f) => f.path));
      expect(paths[0]).toContain('user.name');
      expect(paths[0]).not.toContain('geo');
      expect(paths.some((p) => p.includes('geo.city'))).toBe(true);
      expect(versions.every((v) => v.path.endsWith('.parquet'))).toBe(true);
    } finally {
      agent.kill();
      await cp.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
