import type { ContainerClient } from '@azure/storage-blob';
import { BlobStore, verify } from '@hubcap/lake';
import { type Azurite, readAllBlobs, startAzurite } from '@hubcap/local-azurite';
import { startLocalEventHubs } from '@hubcap/local-eventhubs';
import { PATH_PRESETS, type ReplayRun } from '@hubcap/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type AgentProcess,
  checkLake,
  clicksToLake,
  expectedIds,
  produce,
  startAgent,
  until,
} from './harness.ts';

/**
 * The local Event Hubs server's clock is the test's: events 0..19 of each partition are enqueued at
 * the start of the previous hour (A), 20..39 half an hour later (the replayed window) and 40..59 in
 * the current hour (B).
 */
const hour = 3600_000;
const B = Math.floor(Date.now() / hour) * hour;
const A = B - hour;
/** The live agent reads `$Default` with an owner level: a replay reads with a group of its own. */
const WINDOW = {
  from: new Date(A + hour / 2).toISOString(),
  to: new Date(B).toISOString(),
  consumerGroup: 'replays',
};
let clock = A + 1000;

const partitions = ['0', '1'];

let eh: Awaited<ReturnType<typeof startLocalEventHubs>>;
let azurite: Azurite;
beforeAll(async () => {
  eh = await startLocalEventHubs({
    hubs: [{ name: 'clicks', partitionCount: 2, consumerGroups: ['replays'] }],
    now: () => clock,
  });
  azurite = await startAzurite();
  const send = (count: number, from: number) =>
    produce(eh.connectionString('clicks'), 'clicks', partitions, count, { from });
  await send(20, 0);
  clock = A + hour / 2;
  await send(20, 20);
  clock = B + 1000;
  await send(20, 40);
});
afterAll(async () => {
  await azurite?.close();
  await eh?.close();
});

const template = PATH_PRESETS.hive;

const config = (container: string) => clicksToLake(eh, azurite.connectionString, container);

/** Runs a replay to its end; the process must exit 0. */
async function replay(
  container: string,
  run: ReplayRun,
  env: Record<string, string> = {},
): Promise<AgentProcess> {
  const agent = startAgent(config(container), { HUBCAP_REPLAY: JSON.stringify(run), ...env });
  const code = await agent.exited;
  if (code !== 0) throw new Error(`replay exited ${code}:\n${agent.lines.slice(-20).join('\n')}`);
  return agent;
}

const written = (agent: AgentProcess) => agent.lines.filter((l) => l.includes('"file written"')).length;

/** The live agents' checkpoints and ownership: every blob outside the replays' own scope. */
async function liveState(checkpoints: ContainerClient) {
  const out = new Map<string, { etag: string | undefined; owner: string | undefined }>();
  for await (const blob of checkpoints.listBlobsFlat({ includeMetadata: true, prefix: 'topics/clicks/' })) {
    if (blob.name.startsWith('topics/clicks/replays/')) continue;
    out.set(blob.name, { etag: blob.properties.etag, owner: blob.metadata?.ownerid });
  }
  return out;
}

describe('replay with the real agent, the local Event Hubs server and Azurite', () => {
  it('rewrites the live files byte for byte, lands a window into a prefix exactly, resumes after kill -9, and leaves the live agent alone', {
    timeout: 240_000,
  }, async () => {
    const container = await azurite.container();
    const live = startAgent(config(container.containerName), { HUBCAP_AGENT_ID: 'live-0' });
    try {
      await until('the live agent landed everything', async () => {
        const lake = await checkLake(container, expectedIds(partitions, 60), 'lake/');
        return lake.missing.length === 0 && lake.duplicated.length === 0;
      });
      const checkpointContainer = azurite.service.getContainerClient(
        `${container.containerName}-checkpoints`,
      );
      // Checkpoints follow the files: wait until the live agent checkpointed its last ones.
      await until(
        'live checkpoints',
        () =>
          live.lines.filter((l) => l.includes('"file written"') && l.includes('"lastSequence":59,'))
            .length === 2,
      );
      const before = await readAllBlobs(container, 'lake/');
      const audited = await verify(new BlobStore(container), { prefix: 'lake', template });
      const liveBefore = await liveState(checkpointContainer);
      expect([...liveBefore.values()].filter((b) => b.owner).map((b) => b.owner)).toEqual([
        'live-0',
        'live-0',
      ]);

      // Into the topic's own layout: the files holding the window are rewritten, identical, nothing else.
      const own = await replay(container.containerName, {
        id: 'own1',
        ...WINDOW,
        target: { kind: 'ownLayout' },
      });
      expect(written(own)).toBeGreaterThan(2);
      const after = await readAllBlobs(container, 'lake/');
      expect([...after.keys()].sort()).toEqual([...before.keys()].sort());
      for (const [name, bytes] of before) expect(after.get(name)?.equals(bytes), name).toBe(true);
      expect(await verify(new BlobStore(container), { prefix: 'lake', template })).toEqual(audited);

      // A replay of the whole window A writes its manifests and marker as the live agent did, byte for byte.
      const sealed = [...before.keys()].filter((n) => n.includes('/_hubcap/') || n.endsWith('/_SUCCESS'));
      expect(sealed.length).toBeGreaterThanOrEqual(3);
      for (const name of sealed) await container.deleteBlob(name);
      await replay(container.containerName, {
        id: 'own2',
        from: new Date(A).toISOString(),
        to: new Date(B).toISOString(),
        consumerGroup: 'replays',
        target: { kind: 'ownLayout' },
      });
      const resealed = await readAllBlobs(container, 'lake/');
      expect([...resealed.keys()].sort()).toEqual([...before.keys()].sort());
      for (const [name, bytes] of before) expect(resealed.get(name)?.equals(bytes), name).toBe(true);

      // Into a prefix: exactly the window's events, each once.
      await replay(container.containerName, {
        id: 'prefix1',
        ...WINDOW,
        target: { kind: 'prefix', prefix: 'backfill/one' },
      });
      const one = await checkLake(container, expectedIds(partitions, 20, 20), 'backfill/one/');
      expect(one).toMatchObject({ events: 40, missing: [], duplicated: [], unexpected: [] });

      // Per-partition start sequences instead of the start time.
      await replay(container.containerName, {
        id: 'seq1',
        ...WINDOW,
        startSequences: { '0': 35 },
        target: { kind: 'prefix', prefix: 'backfill/seq' },
      });
      const seq = await checkLake(
        container,
        [...expectedIds(['0'], 5, 35), ...expectedIds(['1'], 20, 20)],
        'backfill/seq/',
      );
      expect(seq).toMatchObject({ missing: [], duplicated: [], unexpected: [] });

      // Killed between a publish and its checkpoint, the same replay resumes: every event once.
      const first = startAgent(config(container.containerName), {
        HUBCAP_REPLAY: JSON.stringify({
          id: 'killed1',
          ...WINDOW,
          target: { kind: 'prefix', prefix: 'backfill/two' },
        }),
        HUBCAP_TEST_PAUSE_AFTER_COMMIT_MS: '3000',
      });
      await first.waitForLine((l) => l.msg === 'replay planned');
      await until('a published file', async () => (await readAllBlobs(container, 'backfill/two/')).size > 0);
      first.kill('SIGKILL');
      await first.exited;
      const resumed = await replay(container.containerName, {
        id: 'killed1',
        ...WINDOW,
        target: { kind: 'prefix', prefix: 'backfill/two' },
      });
      expect(resumed.lines.some((l) => l.includes('rewriting it with the same boundaries'))).toBe(true);
      const two = await checkLake(container, expectedIds(partitions, 20, 20), 'backfill/two/');
      expect(two).toMatchObject({ events: 40, missing: [], duplicated: [], unexpected: [] });

      // The live agent's checkpoints never moved and it still owns every partition.
      const liveAfter = await liveState(checkpointContainer);
      for (const [name, state] of liveBefore)
        if (!state.owner) expect(liveAfter.get(name)?.etag, name).toBe(state.etag);
      expect([...liveAfter.values()].filter((b) => b.owner).map((b) => b.owner)).toEqual([
        'live-0',
        'live-0',
      ]);
      expect(live.child.exitCode).toBe(null);
    } finally {
      live.kill('SIGTERM');
      await live.exited;
    }
  });
});

describe("replay into the topic's own layout, in every format with a writer of its own", () => {
  for (const format of [
    { type: 'avro', codec: 'deflate' },
    { type: 'parquet', compression: 'zstd' },
  ] as const) {
    it(`${format.type}: the files holding the window are rewritten byte for byte`, {
      timeout: 240_000,
    }, async () => {
      const container = await azurite.container();
      const topic = { ...config(container.containerName), format };
      const live = startAgent(topic, { HUBCAP_AGENT_ID: `live-${format.type}` });
      try {
        await until('the live agent landed everything', async () => {
          const lake = await checkLake(container, expectedIds(partitions, 60), 'lake/');
          return lake.missing.length === 0 && lake.duplicated.length === 0;
        });
        await until(
          'live checkpoints',
          () =>
            live.lines.filter((l) => l.includes('"file written"') && l.includes('"lastSequence":59,'))
              .length === 2,
        );
      } finally {
        live.kill('SIGTERM');
        await live.exited;
      }
      const before = await readAllBlobs(container, 'lake/');
      const run = { id: `own${format.type}`, ...WINDOW, target: { kind: 'ownLayout' as const } };
      const agent = startAgent(topic, { HUBCAP_REPLAY: JSON.stringify(run) });
      const code = await agent.exited;
      expect(code, agent.lines.join('\n')).toBe(0);
      expect(written(agent)).toBeGreaterThan(2);
      const after = await readAllBlobs(container, 'lake/');
      expect([...after.keys()].sort()).toEqual([...before.keys()].sort());
      for (const [name, bytes] of before) expect(after.get(name)?.equals(bytes), name).toBe(true);
    });
  }
});
