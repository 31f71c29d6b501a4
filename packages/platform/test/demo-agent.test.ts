import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { BlobServiceClient } from '@azure/storage-blob';
import { devConnectionString } from '@hubcap/local-azurite';
import { afterAll, describe, expect, it } from 'vitest';
import { alive, dataFolder, exited, launch } from './launcher.ts';

/** `npm start` runs the demo topic's agent through the local deployer: files land, Ctrl-C stops it. */
const dataDir = dataFolder('hubcap-demo-agent-');
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

describe('npm start with the local deployer', () => {
  it('creates the demo topic, its agent lands files in Azurite, and Ctrl-C stops the agent too', async () => {
    const { process: child, output } = launch(dataDir, { eventsPerSecond: 50 });
    try {
      const deadline = Date.now() + 90_000;
      while (!/Dashboard/.test(output()) && Date.now() < deadline) await sleep(200);
      expect(output()).toMatch(/created the "demo" topic/);
      // The demo topic has a consumer group of its own; onboarding trials get another hub and group.
      expect(output()).toMatch(
        /hub "demo", read by the demo topic with consumer group "hubcap-demo"; hub "trial" with consumer group "hubcap-trial"/,
      );
      const blobPort = /Azurite \(blob\) on 127\.0\.0\.1:(\d+)/.exec(output())![1];
      const container = BlobServiceClient.fromConnectionString(
        devConnectionString(`http://127.0.0.1:${blobPort}`),
      ).getContainerClient('demo');
      let files: string[] = [];
      while (files.length === 0 && Date.now() < deadline) {
        await sleep(1000);
        files = [];
        for await (const blob of container.listBlobsFlat()) files.push(blob.name);
      }
      expect(files.length, output().slice(-3000)).toBeGreaterThan(0);
      expect(files[0]).toMatch(/^127\.0\.0\.1\/demo\/\d+\/.*\.ndjson\.gz$/);
      const agents = JSON.parse(readFileSync(join(dataDir, 'agents.json'), 'utf8')) as { pid: number }[];
      expect(agents).toHaveLength(1);

      child.kill('SIGINT');
      expect(await exited(child)).toBe(0);
      // The agent got SIGTERM and drains (publish + checkpoint) within its drain timeout.
      const gone = Date.now() + 30_000;
      while (agents.some((a) => alive(a.pid)) && Date.now() < gone) await sleep(200);
      expect(agents.map((a) => a.pid).filter(alive)).toEqual([]);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
});
