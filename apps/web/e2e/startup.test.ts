import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTopic, SecretBox } from '@hubcap/api';
import { createTestDatabase, type TestDatabase } from '@hubcap/db/testing';
import { workloadTopicInput } from '@hubcap/shared/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWeb, type WebServer } from './server.ts';

/**
 * The web server's start on Kubernetes: it answers (liveness) at once while it re-applies every
 * deployment in the background against an API server that never answers, shows that progress, creates
 * the first admin with a generated password, and keeps liveness free of the database.
 */
let db: TestDatabase;
let kubeApi: Server;
let dir: string;
const servers: WebServer[] = [];

beforeAll(async () => {
  db = await createTestDatabase();
  for (const name of ['orders', 'clicks', 'payments', 'audit']) {
    // Workload identity: no secret to seal, so the web server's own key does not matter.
    const { id } = await createTopic(
      db.prisma,
      SecretBox.fromBase64(Buffer.alloc(32, 1).toString('base64')),
      workloadTopicInput(name, { consumerGroup: name, container: 'raw' }),
      { actor: 'system' },
    );
    await db.prisma.deployment.create({
      data: { topicId: id, target: 'kubernetes', configVersion: 1, desiredReplicas: 1, phase: 'running' },
    });
  }
  // A Kubernetes API server that accepts connections and never answers.
  kubeApi = createServer(() => {});
  await new Promise<void>((resolve) => kubeApi.listen(0, '127.0.0.1', resolve));
  dir = mkdtempSync(join(tmpdir(), 'hubcap-startup-'));
  const server = `http://127.0.0.1:${(kubeApi.address() as AddressInfo).port}`;
  writeFileSync(
    join(dir, 'kubeconfig'),
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'c', cluster: { server, 'insecure-skip-tls-verify': true } }],
      users: [{ name: 'u', user: { token: 't' } }],
      contexts: [{ name: 'x', context: { cluster: 'c', user: 'u' } }],
      'current-context': 'x',
    }),
  );
});

afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
  kubeApi?.closeAllConnections();
  kubeApi?.close();
  await db?.drop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('web server start', () => {
  it('answers liveness within seconds while reconciling 4 topics against a silent cluster, and shows progress', async () => {
    const started = Date.now();
    const web = await startWeb(db.url, {
      HUBCAP_MAINTENANCE: 'off',
      HUBCAP_DEPLOYER: 'kubernetes',
      HUBCAP_KUBECONFIG: join(dir, 'kubeconfig'),
      HUBCAP_AGENT_CONTROL_PLANE_URL: 'http://hubcap-web.hubcap.svc:3000',
      HUBCAP_ADMIN_EMAIL: 'admin@example.com',
    });
    servers.push(web);
    const upAfterMs = Date.now() - started;
    // Before: the server answered only after every topic's 15 s timeout (62 s for 4 topics), past the
    // liveness probe's restart at ~40 s. The chart's startup probe allows 60 s.
    expect(upAfterMs).toBeLessThan(30_000);
    expect((await fetch(`${web.url}/api/readyz`)).status).toBe(200);

    const line = web.output
      .join('')
      .match(/created the first admin, admin@example.com, with the password (\S+) /);
    expect(line).not.toBeNull();
    const signIn = await fetch(`${web.url}/api/trpc/auth.signIn`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'admin@example.com', password: line![1] }),
    });
    expect(signIn.status).toBe(200);
    const cookie = signIn.headers.get('set-cookie')!.split(';')[0]!;
    const progress = await fetch(`${web.url}/api/trpc/deployment.reconcileProgress`, { headers: { cookie } });
    const { result } = (await progress.json()) as { result: { data: Record<string, unknown> } };
    expect(result.data).toMatchObject({ state: 'running', total: 4, current: 'orders' });
    const fleet = await (await fetch(`${web.url}/`, { headers: { cookie } })).text();
    expect(fleet).toMatch(/Re-applying deployments after the server started: 0 of 4 done/);
  });

  it('keeps liveness up when the database is down; readiness says so', async () => {
    const url = new URL(db.url);
    url.pathname = '/hubcap_no_such_database';
    const web = await startWeb(url.toString(), { HUBCAP_MAINTENANCE: 'off' });
    servers.push(web);
    expect((await fetch(`${web.url}/api/healthz`)).status).toBe(200);
    const ready = await fetch(`${web.url}/api/readyz`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toEqual({ status: 'database unavailable' });
  });
});
