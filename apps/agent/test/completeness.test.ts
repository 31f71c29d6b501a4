import type { ContainerClient } from '@azure/storage-blob';
import { BlobStore, verify } from '@hubcap/lake';
import { type Azurite, readAllBlobs, startAzurite } from '@hubcap/local-azurite';
import { startLocalEventHubs } from '@hubcap/local-eventhubs';
import { PATH_PRESETS, PartitionManifest, TopicMarker } from '@hubcap/shared';
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
 * The local Event Hubs server's clock is set by the test: its enqueued times cross window boundaries
 * when the test says so. Windows A (the previous hour) and B (the current one) are in the agent's
 * past and present; C and D are in its future, so only files (never the agent's clock) seal B and C.
 */
const hour = 3600_000;
const R = Math.floor(Date.now() / hour) * hour;
const [A, B, C, D] = [R - hour, R, R + hour, R + 2 * hour];
let clock = B - 3000;
const RETAINED = 50;

let eh: Awaited<ReturnType<typeof startLocalEventHubs>>;
let azurite: Azurite;
beforeAll(async () => {
  eh = await startLocalEventHubs({
    hubs: [{ name: 'clicks', partitionCount: 2, retention: { maxEvents: RETAINED } }],
    now: () => clock,
  });
  azurite = await startAzurite();
});
afterAll(async () => {
  await azurite?.close();
  await eh?.close();
});

const partitions = ['0', '1'];
const template = PATH_PRESETS.hive;
const folder = (start: number) => {
  const t = new Date(start).toISOString();
  return `lake/topic=clicks/date=${t.slice(0, 10)}/hour=${t.slice(11, 13)}`;
};
const hourOf = (window: string) => window.slice(-7);

const config = (container: string) => clicksToLake(eh, azurite.connectionString, container);

async function completenessFiles(container: ContainerClient): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const [name, bytes] of await readAllBlobs(container, 'lake/')) {
    if (name.includes('/_hubcap/') || name.endsWith('/_SUCCESS')) out.set(name, bytes.toString('utf8'));
  }
  return out;
}

/** Until both partitions wrote the file ending at `last`. */
const landed = (agent: AgentProcess, last: number) =>
  until(`files up to ${last}`, async () =>
    agent.lines.filter((l) => l.includes('"file written"') && l.includes(`"lastSequence":${last},`)).length >=
    partitions.length
      ? true
      : null,
  );

async function stop(agent: AgentProcess): Promise<void> {
  agent.kill('SIGTERM');
  await agent.exited;
}

describe('completeness with the real agent, the local Event Hubs server and Azurite', () => {
  it('seals windows, marks them, records a range lost at source; a second run writes the same bytes', {
    timeout: 180_000,
  }, async () => {
    const container = await azurite.container();
    const blob = (path: string) => container.getBlockBlobClient(path).downloadToBuffer().then(String);
    const send = (count: number, from: number) =>
      produce(eh.connectionString('clicks'), 'clicks', partitions, count, { from });
    const audit = () => verify(new BlobStore(container), { prefix: 'lake', template });
    // Window A: events 0..19 of each partition; window B: 20..39.
    await send(20, 0);
    clock = B + 1000;
    await send(20, 20);

    let agent = startAgent(config(container.containerName));
    try {
      // A is sealed by B's first files, before their checkpoint; B stays open (the hour is not over).
      await until('marker A', () => blob(`${folder(A)}/_SUCCESS`).catch(() => null));
      await landed(agent, 39);
    } finally {
      await stop(agent);
    }
    const marker = TopicMarker.parse(JSON.parse(await blob(`${folder(A)}/_SUCCESS`)));
    expect(marker.partitions).toEqual(
      partitions.map((partition) => ({
        partition,
        sequences: { firstSequence: 0, lastSequence: 19 },
        events: 20,
        lostAtSource: 0,
      })),
    );
    // Each manifest agrees with an independent audit of the listing.
    const first = await audit();
    expect(first.cells.map((c) => [hourOf(c.window), c.partition, c.status, c.sequences])).toEqual(
      partitions.flatMap((partition) => [
        [hourOf(folder(A)), partition, 'complete', { firstSequence: 0, lastSequence: 19 }],
        [hourOf(folder(B)), partition, 'open', { firstSequence: 20, lastSequence: 39 }],
      ]),
    );
    expect(first.ok).toBe(true);
    const sealed = await completenessFiles(container);
    expect(sealed.size).toBe(3);

    // A run that lost its checkpoints lands the same events again: same files, manifests and marker.
    const checkpoints = azurite.service.getContainerClient(`${container.containerName}-checkpoints`);
    for await (const b of checkpoints.listBlobsFlat()) await checkpoints.deleteBlob(b.name);
    agent = startAgent(config(container.containerName));
    try {
      await until('both partitions sealed A again', async () =>
        agent.lines.filter((l) => l.includes('"window sealed"')).length >= 2 ? true : null,
      );
    } finally {
      await stop(agent);
    }
    expect(await completenessFiles(container)).toEqual(sealed);

    // Retention keeps a partition's last 50 events: 40..49 expire before the agent reads them.
    clock = C + 1000;
    await send(60, 40);
    agent = startAgent(config(container.containerName));
    try {
      await until('marker B', () => blob(`${folder(B)}/_SUCCESS`).catch(() => null));
      clock = D + 1000;
      await send(1, 100);
      await until('marker C', () => blob(`${folder(C)}/_SUCCESS`).catch(() => null));
    } finally {
      await stop(agent);
    }
    for (const partition of partitions) {
      const manifest = PartitionManifest.parse(
        JSON.parse(await blob(`${folder(C)}/_hubcap/${partition}.manifest.json`)),
      );
      expect(manifest.lostAtSource).toEqual([{ firstSequence: 40, lastSequence: 49 }]);
      expect(manifest.sequences).toEqual({ firstSequence: 40, lastSequence: 99 });
      expect(manifest.events).toBe(50);
    }
    const after = await audit();
    expect(after.cells.map((c) => [hourOf(c.window), c.status])).toEqual(
      partitions.flatMap(() => [
        [hourOf(folder(A)), 'complete'],
        [hourOf(folder(B)), 'complete'],
        [hourOf(folder(C)), 'lost-at-source'],
        [hourOf(folder(D)), 'open'],
      ]),
    );
    expect(after.cells.every((c) => c.problems.length === 0)).toBe(true);
    expect(after.ok).toBe(false); // lost at source fails unless allowed
    const lake = await checkLake(
      container,
      [...expectedIds(partitions, 40), ...expectedIds(partitions, 51, 50)],
      'lake/',
    );
    expect(lake).toMatchObject({ missing: [], duplicated: [], unexpected: [] });
  });
});
