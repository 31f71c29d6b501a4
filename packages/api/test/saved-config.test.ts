// Saved means applied, end to end with the local runner: the real agent gets its config from the
// control plane (the API served over HTTP, as the web server does), a saved version it can take in
// place reaches it without a restart, one with a new file layout restarts it, and the topic page's
// replica list says which version each replica runs.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { createTestDatabase, type TestDatabase } from '@hubcap/db/testing';
import { LocalRunner } from '@hubcap/deployer/local';
import { type LocalEventHubs, startLocalEventHubs } from '@hubcap/local-eventhubs';
import type { TopicConfigInput } from '@hubcap/shared';
import { fetchRequestHandler } from '@trpc/server/adapters/fetch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SecretBox } from '../src/auth/secret-box.ts';
import { type ApiServices, createContext } from '../src/context.ts';
import { appRouter } from '../src/root.ts';
import { applySavedConfig, deployTopic } from '../src/services/deployments/deployments.ts';
import { topicDetail } from '../src/services/telemetry/fleet.ts';
import { createTopic, updateTopic } from '../src/services/topics/topics.ts';
import { LOCAL_POLICY } from './harness.ts';

const AGENT_ENTRY = fileURLToPath(new URL('../../../apps/agent/src/main.ts', import.meta.url));
const system = { actor: 'system' };

let db: TestDatabase;
let eventHubs: LocalEventHubs;
let server: Server;
let runner: LocalRunner;
let services: ApiServices;
let dir: string;

beforeAll(async () => {
  [db, eventHubs] = await Promise.all([
    createTestDatabase(),
    startLocalEventHubs({ hubs: [{ name: 'orders', partitionCount: 2 }] }),
  ]);
  dir = await mkdtemp(join(tmpdir(), 'hubcap-saved-'));
  services = { prisma: db.prisma, secrets: new SecretBox(randomBytes(32)), policy: LOCAL_POLICY };
  // The API over HTTP, mounted as the web server mounts it.
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', async () => {
      const request = new Request(`http://127.0.0.1${req.url}`, {
        method: req.method ?? 'GET',
        headers: req.headers as Record<string, string>,
        ...(req.method === 'POST' ? { body: Buffer.concat(chunks) } : {}),
      });
      const response = await fetchRequestHandler({
        endpoint: '/api/trpc',
        req: request,
        router: appRouter,
        createContext: ({ resHeaders }) => createContext(services, request, resHeaders),
      });
      res.writeHead(response.status, Object.fromEntries(response.headers));
      res.end(Buffer.from(await response.arrayBuffer()));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  runner = new LocalRunner({
    agentEntry: AGENT_ENTRY,
    controlPlaneUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    env: {
      HUBCAP_MAX_WAIT_SECONDS: '0.2',
      HUBCAP_LB_UPDATE_INTERVAL_MS: '500',
      HUBCAP_LOG_LEVEL: 'info',
      // The local Event Hubs server and Azurite are no Azure endpoints.
      HUBCAP_ALLOWED_ENDPOINTS: '127.0.0.1',
    },
    stopTimeoutMs: 20_000,
  });
  services.deployer = runner;
});

afterAll(async () => {
  await runner?.close();
  server?.closeAllConnections();
  server?.close();
  await Promise.all([db?.drop(), eventHubs?.close()]);
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function until<T>(what: string, read: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = await read();
    if (value !== undefined) return value;
    await sleep(300);
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('saved means applied (local runner, real agent, config from the control plane)', () => {
  it('applies a save in place when the agent can, restarts it for a new file layout, and shows each replica’s version', {
    timeout: 150_000,
  }, async () => {
    const config: TopicConfigInput = {
      topic: 'orders',
      source: {
        fullyQualifiedNamespace: `127.0.0.1:${eventHubs.port}`,
        eventHubName: 'orders',
        auth: { kind: 'connectionString', connectionString: eventHubs.connectionString() },
      },
      destination: { kind: 'localFolder', path: dir },
      format: { type: 'ndjson', compression: 'none' },
      batching: { maxAgeSeconds: 5 },
      reporting: { intervalSeconds: 1 },
    };
    const { id } = await createTopic(db.prisma, services.secrets, config, system);
    const ref = { id, name: 'orders' };
    await deployTopic(services, 'orders', system);
    const replicaVersion = async (version: number) => {
      const [replica] = (await topicDetail(db.prisma, id, '1h')).replicas;
      return replica?.configVersion === version ? replica : undefined;
    };
    await until('the agent to report version 1', () => replicaVersion(1));
    const [pid] = runner.pids(ref);

    // A new batching setting: taken in place, same process.
    await updateTopic(db.prisma, services.secrets, id, { ...config, batching: { maxAgeSeconds: 2 } }, system);
    expect(await applySavedConfig(services, 'orders', system)).toMatchObject({ outcome: 'applied' });
    await until('the agent to run version 2', () => replicaVersion(2));
    expect(runner.pids(ref)).toEqual([pid]);

    // A new format: a new file layout, so the runner stops the agent and starts a new one.
    await updateTopic(
      db.prisma,
      services.secrets,
      id,
      { ...config, batching: { maxAgeSeconds: 2 }, format: { type: 'ndjson', compression: 'gzip' } },
      system,
    );
    expect(await applySavedConfig(services, 'orders', system)).toMatchObject({ outcome: 'applied' });
    const replica = await until('the agent to run version 3', () => replicaVersion(3));
    expect(runner.pids(ref)).toHaveLength(1);
    expect(runner.pids(ref)).not.toEqual([pid]);
    expect(replica.configIssue).toBeNull();
  });
});
