// The local runner for real: a topic deployed through the service layer runs the real agent as a
// child process, which reads the local Event Hubs server and lands files in Azurite; removing the
// deployment and closing the runner leave no process behind.
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { createTestDatabase, type TestDatabase } from '@hubcap/db/testing';
import { LocalRunner } from '@hubcap/deployer/local';
import { type Azurite, startAzurite } from '@hubcap/local-azurite';
import { type LocalEventHubs, startLocalEventHubs, startSampleTraffic } from '@hubcap/local-eventhubs';
import { localTopicInput } from '@hubcap/shared/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SecretBox } from '../src/auth/secret-box.ts';
import {
  type DeploymentServices,
  deploymentLogs,
  deploymentStatus,
  deployTopic,
  refreshDeployments,
  removeTopicDeployment,
} from '../src/services/deployments/deployments.ts';
import { createTopic } from '../src/services/topics/topics.ts';

const AGENT_ENTRY = fileURLToPath(new URL('../../../apps/agent/src/main.ts', import.meta.url));
const system = { actor: 'system' };

let db: TestDatabase;
let eventHubs: LocalEventHubs;
let azurite: Azurite;
let runner: LocalRunner;
let services: DeploymentServices;

beforeAll(async () => {
  [db, eventHubs, azurite] = await Promise.all([
    createTestDatabase(),
    startLocalEventHubs({ hubs: [{ name: 'orders', partitionCount: 2 }] }),
    startAzurite(),
  ]);
  runner = new LocalRunner({
    agentEntry: AGENT_ENTRY,
    env: {
      HUBCAP_CREATE_CONTAINERS: 'true',
      HUBCAP_MAX_WAIT_SECONDS: '0.2',
      HUBCAP_LB_UPDATE_INTERVAL_MS: '500',
      HUBCAP_LOG_LEVEL: 'info',
      HUBCAP_ALLOWED_ENDPOINTS: '127.0.0.1',
    },
    stopTimeoutMs: 20_000,
  });
  services = { prisma: db.prisma, secrets: new SecretBox(randomBytes(32)), deployer: runner };
});

afterAll(async () => {
  await runner?.close();
  await Promise.all([db?.drop(), eventHubs?.close(), azurite?.close()]);
});

async function blobsIn(container: string): Promise<string[]> {
  const client = azurite.service.getContainerClient(container);
  if (!(await client.exists())) return [];
  const names: string[] = [];
  for await (const blob of client.listBlobsFlat()) names.push(blob.name);
  return names;
}

describe('local runner with the real agent, deployed from the service layer', () => {
  it('runs the agent, which lands files in Azurite; remove and close leave no process', async () => {
    const { id } = await createTopic(
      db.prisma,
      services.secrets,
      {
        ...localTopicInput('orders', {
          namespace: `127.0.0.1:${eventHubs.port}`,
          hub: 'orders',
          eventHubs: eventHubs.connectionString(),
          storage: azurite.connectionString,
        }),
        format: { type: 'ndjson', compression: 'none' },
        batching: { maxAgeSeconds: 1 },
      },
      system,
    );
    const traffic = startSampleTraffic({
      connectionString: eventHubs.connectionString(),
      hub: 'orders',
      count: 300,
      eventsPerSecond: 300,
    });

    const deployed = await deployTopic(services, 'orders', { actor: 'system' });
    expect(deployed.drift).toEqual([]); // a first deploy starts agents: nothing drifted
    const pids = runner.pids({ id, name: 'orders' });
    expect(pids).toHaveLength(1);

    const deadline = Date.now() + 60_000;
    let files: string[] = [];
    while (Date.now() < deadline && files.length === 0) {
      await sleep(500);
      files = (await blobsIn('lake')).filter((name) => name.endsWith('.ndjson'));
    }
    await traffic.stop();
    const logs = (await deploymentLogs(services, 'orders', 500)).map((l) => l.line).join('\n');
    expect(files, `no file landed; agent logs:\n${logs}`).not.toEqual([]);
    expect(logs).toContain('ingesting');
    expect(logs).not.toContain(eventHubs.connectionString().split('SharedAccessKey=')[1]!.split(';')[0]);

    // Nobody watched the deployment: the background refresh replaces the rollout's "starting" record.
    expect((await db.prisma.deployment.findUnique({ where: { topicId: id } }))?.message).toBe(
      '0/1 ready; starting.',
    );
    expect(await refreshDeployments(services)).toBe(1);
    expect(await db.prisma.deployment.findUnique({ where: { topicId: id } })).toMatchObject({
      phase: 'running',
      readyReplicas: 1,
      message: '1/1 ready.',
    });

    const view = await deploymentStatus(services, 'orders');
    expect(view.live).toMatchObject({
      target: 'local',
      phase: 'running',
      readyReplicas: 1,
      desiredReplicas: 1,
    });
    expect(view.record).toMatchObject({ target: 'local', phase: 'running', configVersion: 1 });
    const tokens = await db.prisma.agentInstance.findMany({ where: { topicId: id } });
    expect(tokens.filter((t) => !t.revokedAt)).toHaveLength(1);
    const audit = await db.prisma.auditEvent.findMany({
      where: { targetId: id, action: 'deployment.deploy' },
    });
    expect(audit[0]?.details).toMatchObject({ outcome: 'ok', target: 'local' });

    await removeTopicDeployment(services, 'orders', system);
    expect(pids.filter(isAlive)).toEqual([]);
    expect((await db.prisma.agentInstance.findMany({ where: { topicId: id, revokedAt: null } })).length).toBe(
      0,
    );
    expect((await db.prisma.deployment.findUnique({ where: { topicId: id } }))?.phase).toBe('deleted');

    // Deployed again, then the runner closes (as when the platform stops): nothing keeps running.
    await deployTopic(services, 'orders', system);
    const again = runner.pids({ id, name: 'orders' });
    expect(again.filter(isAlive)).toHaveLength(1);
    await runner.close();
    expect(again.filter(isAlive)).toEqual([]);
  });
});

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
