#!/usr/bin/env node
/**
 * `npm start`: the whole Hubcap platform on embedded defaults — PostgreSQL, Azurite, a local Event Hubs
 * server with sample traffic, and the web control plane. Ctrl-C stops everything it started.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureAdmin, SecretBox } from '@hubcap/api';
import { createPrisma } from '@hubcap/db';
import { startDatabase } from '@hubcap/db/embedded';
import { waitForRecordedAgents } from '@hubcap/deployer/local';
import { azuriteCommand, devConnectionString } from '@hubcap/local-azurite';
import { startLocalEventHubs, startSampleTraffic } from '@hubcap/local-eventhubs';
import { ChildRegistry } from './children.ts';
import {
  DEMO_CONSUMER_GROUP,
  DEMO_HUB,
  ensureDemoTopic,
  LOCAL_HUBS,
  TRIAL_CONSUMER_GROUP,
  TRIAL_HUB,
} from './demo-topic.ts';
import { loadEnv } from './env.ts';
import { localServices, TRY_HUB } from './local-services.ts';
import { freePort } from './ports.ts';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const require = createRequire(import.meta.url);
const log = (line: string) => console.log(`hubcap: ${line}`);

/** What has been started, in order; shutdown stops it in reverse. */
const stops: Array<{ name: string; stop: () => Promise<void> }> = [];
let stopping: Promise<void> | undefined;

function shutdown(code: number): Promise<void> {
  stopping ??= (async () => {
    log('stopping…');
    for (const { name, stop } of stops.reverse()) {
      try {
        await stop();
        log(`stopped ${name}`);
      } catch (error) {
        console.error(`hubcap: could not stop ${name} cleanly: ${(error as Error).message}`);
      }
    }
    log('stopped');
    process.exit(code);
  })();
  return stopping;
}

function readOrCreateSecretFile(path: string, create: () => string): string {
  if (!existsSync(path)) {
    writeFileSync(path, create(), { mode: 0o600 });
    chmodSync(path, 0o600);
  }
  return readFileSync(path, 'utf8').trim();
}

/** Polls `url` until `accept` likes the answer, the process behind it exits, or time runs out. */
async function waitForHttp(
  url: string,
  timeoutMs: number,
  exited: Promise<unknown>,
  accept: (response: Response) => boolean = (response) => response.ok,
): Promise<void> {
  let gone = false;
  void exited.then(() => {
    gone = true;
  });
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && !gone) {
    try {
      if (accept(await fetch(url))) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(
    gone ? `${url} exited before it answered` : `${url} did not answer within ${timeoutMs / 1000} s`,
  );
}

async function main() {
  const env = loadEnv(root);
  mkdirSync(env.dataDir, { recursive: true });
  const children = new ChildRegistry(join(env.dataDir, 'children.json'));
  await children.reapOrphans(log);
  stops.push({ name: 'child processes', stop: () => children.stopAll() });

  const started = Date.now();
  const database = await startDatabase({ dataDir: env.dataDir, databaseUrl: env.DATABASE_URL });
  stops.push({ name: 'PostgreSQL', stop: () => database.stop() });
  log(database.embedded ? 'embedded PostgreSQL ready' : 'PostgreSQL ready (DATABASE_URL)');

  const blobPort = await freePort(env.HUBCAP_BLOB_PORT);
  const azurite = children.spawn(
    'azurite',
    process.execPath,
    azuriteCommand({ location: join(env.dataDir, 'azurite'), port: blobPort }),
    { output: (line) => log(`azurite: ${line}`) },
  );
  // Azurite refuses anonymous requests: any HTTP answer means it is up.
  await waitForHttp(`http://127.0.0.1:${blobPort}/devstoreaccount1`, 30_000, azurite.exited, () => true);
  log(`Azurite (blob) on 127.0.0.1:${blobPort}`);
  void azurite.exited.then(() => log('Azurite exited'));

  const eventHubs = await startLocalEventHubs({
    host: '127.0.0.1',
    port: await freePort(env.HUBCAP_EVENTHUBS_PORT),
    hubs: LOCAL_HUBS,
    persistDir: join(env.dataDir, 'eventhubs'),
  });
  stops.push({ name: 'local Event Hubs', stop: () => eventHubs.close() });
  log(
    `local Event Hubs on 127.0.0.1:${eventHubs.port} (hub "${DEMO_HUB}", read by the demo topic with consumer group "${DEMO_CONSUMER_GROUP}"; hub "${TRIAL_HUB}" with consumer group "${TRIAL_CONSUMER_GROUP}" to try onboarding on)`,
  );
  if (env.HUBCAP_DEMO_EVENTS_PER_SECOND > 0) {
    for (const hub of [DEMO_HUB, TRIAL_HUB]) {
      const traffic = startSampleTraffic({
        connectionString: eventHubs.connectionString(),
        hub,
        eventsPerSecond: env.HUBCAP_DEMO_EVENTS_PER_SECOND,
      });
      stops.push({ name: `sample traffic into ${hub}`, stop: () => traffic.stop() });
    }
    log(
      `sample traffic: ${env.HUBCAP_DEMO_EVENTS_PER_SECOND} events/s into "${DEMO_HUB}" and "${TRIAL_HUB}"`,
    );
  }
  const local = localServices(
    eventHubs.connectionString(),
    devConnectionString(`http://127.0.0.1:${blobPort}`),
  );

  const encryptionKey =
    process.env.HUBCAP_ENCRYPTION_KEY ??
    readOrCreateSecretFile(join(env.dataDir, 'encryption.key'), () => randomBytes(32).toString('base64'));
  const prisma = createPrisma(database.url, { max: 2 });
  stops.push({ name: 'database pool', stop: () => prisma.$disconnect() });
  const passwordFile = join(env.dataDir, 'admin-password');
  const created = await ensureAdmin(prisma, env.HUBCAP_ADMIN_EMAIL);
  if (created) writeFileSync(passwordFile, created.password, { mode: 0o600 });

  await ensureDemoTopic(
    prisma,
    SecretBox.fromBase64(encryptionKey),
    {
      eventHubsPort: eventHubs.port,
      eventHubsConnectionString: local.HUBCAP_LOCAL_EVENTHUBS_CONNECTION_STRING,
      blobConnectionString: local.HUBCAP_LOCAL_STORAGE_CONNECTION_STRING,
    },
    log,
  );

  const webPort = await freePort(env.PORT);
  // The web server runs each topic's agent as its own child process (the local deployer).
  const agentPids = join(env.dataDir, 'agents.json');
  const web = children.spawn(
    'web',
    process.execPath,
    [
      require.resolve('next/dist/bin/next', { paths: [join(root, 'apps/web')] }),
      'start',
      '-H',
      '127.0.0.1',
      '-p',
      String(webPort),
    ],
    {
      cwd: join(root, 'apps/web'),
      env: {
        ...process.env,
        DATABASE_URL: database.url,
        HUBCAP_ENCRYPTION_KEY: encryptionKey,
        NODE_ENV: 'production',
        NEXT_TELEMETRY_DISABLED: '1',
        HUBCAP_DEPLOYER: process.env.HUBCAP_DEPLOYER || 'local',
        HUBCAP_AGENT_ENTRY: join(root, 'apps/agent/src/main.ts'),
        HUBCAP_AGENT_CONTROL_PLANE_URL: `http://127.0.0.1:${webPort}`,
        HUBCAP_AGENT_PID_FILE: agentPids,
        // Topics may use this run's local services, and local folders under the data directory.
        HUBCAP_ALLOWED_ENDPOINTS: [
          process.env.HUBCAP_ALLOWED_ENDPOINTS,
          `127.0.0.1:${eventHubs.port}`,
          `127.0.0.1:${blobPort}`,
        ]
          .filter(Boolean)
          .join(','),
        HUBCAP_LOCAL_FOLDER_ROOT: process.env.HUBCAP_LOCAL_FOLDER_ROOT || join(env.dataDir, 'folders'),
        // The onboarding form's "Use the local services".
        ...local,
      },
      output: (line) => log(`web: ${line}`),
    },
  );
  // Stopped before the services agents write to: the web server tells its agents to drain on
  // SIGTERM; wait for them (they drain for up to 25 s), then kill any that are left.
  stops.push({
    name: 'web server and agents',
    stop: async () => {
      await web.stop();
      const killed = await waitForRecordedAgents(agentPids, 35_000);
      if (killed) log(`killed ${killed} agent(s) that did not stop in time`);
    },
  });
  void web.exited.then((code) => {
    if (!stopping) {
      console.error(`hubcap: the web server exited (code ${code}); stopping`);
      void shutdown(1);
    }
  });
  await waitForHttp(`http://127.0.0.1:${webPort}/api/healthz`, 60_000, web.exited);

  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  // The generated password is shown once; later starts say where it is kept.
  const signIn = created
    ? `${created.email} / ${created.password}  (also saved in ${passwordFile})`
    : existsSync(passwordFile)
      ? `${env.HUBCAP_ADMIN_EMAIL} with the password in ${passwordFile}`
      : 'with your account';
  log(`ready in ${seconds} s`);
  console.log(`
  Dashboard   http://127.0.0.1:${webPort}
  Sign in     ${signIn}
  Stop        Ctrl-C

  To onboard a topic, the form's "Use the local services" fills these in:
  Event Hubs  ${local.HUBCAP_LOCAL_EVENTHUBS_CONNECTION_STRING}
              (hub "${TRY_HUB.name}", consumer group "${TRY_HUB.consumerGroup}"; the demo topic reads "${DEMO_HUB}")
  Storage     ${local.HUBCAP_LOCAL_STORAGE_CONNECTION_STRING}
`);
}

for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => void shutdown(0));

main().catch(async (error: Error) => {
  console.error(`hubcap: ${error.message}`);
  await shutdown(1);
});
