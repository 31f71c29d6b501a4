/**
 * `npm run bench` (apps/web): 500 topics × 32 partitions with 7 days of metrics (a day of raw samples
 * every 10 s, a week of per-minute aggregates, as retention keeps them), then
 *  - the fleet page and a topic page, server-rendered by `next start`, timed over HTTP;
 *  - report ingestion over HTTP (`agent.report`, 32 partitions each) from many concurrent agents.
 * Writes bench/results.md. Needs `next build` first (turbo runs it).
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createTopic, ensureAdmin, issueAgentToken } from '@hubcap/api';
import { createTestDatabase, setupTestDatabaseServer } from '@hubcap/db/testing';
import type { AgentReport } from '@hubcap/shared';
import { startWeb } from '../e2e/server.ts';

const TOPICS = Number(process.env.BENCH_TOPICS ?? 500);
const PARTITIONS = 32;
// BENCH_QUICK=1 seeds two hours of history only: for trying changes, not for the results file.
const QUICK = process.env.BENCH_QUICK === '1';
const RAW_HOURS = QUICK ? 2 : 24;
const MINUTE_DAYS = QUICK ? 2 / 24 : 7;
const PAGE_RUNS = Number(process.env.BENCH_PAGE_RUNS ?? 60);
const INGEST_SECONDS = Number(process.env.BENCH_INGEST_SECONDS ?? 20);
const INGEST_CONCURRENCY = 32;

const log = (line: string) => console.log(`bench: ${line}`);
const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;

/** A busy agent's report: every partition about `sequence` events in, with a little lag. */
function sampleReport(topic: string, i: number, sequence: number): AgentReport {
  const now = new Date().toISOString();
  const position = (n: number) => ({ sequenceNumber: n, offset: String(n * 1000), enqueuedTime: now });
  return {
    agentId: `${topic}-0`,
    topic,
    agentVersion: '0.1.0',
    sentAt: now,
    startedAt: now,
    ready: true,
    partitions: Array.from({ length: PARTITIONS }, (_, p) => ({
      partitionId: String(p),
      lastEnqueued: position(sequence + i),
      lastReceived: position(sequence - 10 + i),
      lastCheckpointed: position(sequence - 1000 + i),
      lagEvents: 1000,
      lagSeconds: 2,
      eventsPerSecond: 40,
      bytesPerSecond: 40000,
    })),
    eventsPerSecond: 1280,
    bytesPerSecond: 1280000,
    eventsWritten: i * 100,
    bytesWritten: i * 100000,
    filesWritten: i,
    deadLettered: 0,
    errors: [],
  };
}

async function main() {
  const teardown = await setupTestDatabaseServer();
  const db = await createTestDatabase();
  const { prisma } = db;
  try {
    const t0 = Date.now();
    const tokens: { topic: string; token: string }[] = [];
    const { SecretBox } = await import('@hubcap/api');
    const box = new SecretBox(Buffer.alloc(32, 7));
    for (let i = 0; i < TOPICS; i += 25) {
      await Promise.all(
        Array.from({ length: Math.min(25, TOPICS - i) }, async (_, j) => {
          const name = `topic-${String(i + j).padStart(3, '0')}`;
          const { id } = await createTopic(
            prisma,
            box,
            {
              topic: name,
              source: {
                fullyQualifiedNamespace: 'bench.servicebus.windows.net',
                eventHubName: name,
                auth: {
                  kind: 'connectionString',
                  connectionString: 'Endpoint=sb://bench/;SharedAccessKeyName=k;SharedAccessKey=x',
                },
              },
              destination: {
                kind: 'azureBlob',
                account: { kind: 'connectionString', connectionString: 'AccountName=bench;AccountKey=x' },
                container: 'lake',
              },
            },
            { actor: 'system' },
          );
          tokens.push({ topic: name, token: (await issueAgentToken(prisma, id, `${name}-0`)).token });
        }),
      );
    }
    log(`${TOPICS} topics and agents in ${((Date.now() - t0) / 1000).toFixed(1)} s`);

    let t = Date.now();
    await prisma.$executeRawUnsafe(`
      INSERT INTO "PartitionState" ("topicId", "partitionId", "agentInstanceId", "lastEnqueuedSequenceNumber",
        "lastEnqueuedTime", "lastReceivedSequenceNumber", "lastReceivedTime", "lastCheckpointSequenceNumber",
        "lastCheckpointTime", "lagEvents", "lagSeconds", "eventsPerSecond", "bytesPerSecond", "updatedAt")
      SELECT a."topicId", p::text, a.id, 100000 + p, now(), 99990 + p, now(), 99000 + p, now() - interval '20 seconds',
        (random() * 2000)::bigint, random() * 30, random() * 50, random() * 50000, now()
      FROM "AgentInstance" a CROSS JOIN generate_series(0, ${PARTITIONS - 1}) p`);
    await prisma.$executeRawUnsafe(`UPDATE "AgentInstance" SET "lastSeenAt" = now() AT TIME ZONE 'UTC'`);
    log(`${TOPICS * PARTITIONS} partition states in ${((Date.now() - t) / 1000).toFixed(1)} s`);

    t = Date.now();
    await prisma.$executeRawUnsafe(`
      INSERT INTO "MetricSample" ("topicId", "agentInstanceId", at, "eventsPerSecond", "bytesPerSecond", "lagEvents",
        "lagSeconds", "filesWritten", "filesDelta", "errorCount")
      SELECT a."topicId", a.id, ts, 1000 + random() * 200, 1e6 + random() * 2e5, (random() * 50000)::bigint,
        random() * 60, 0, (random() < 0.05)::int, 0
      FROM "AgentInstance" a
      CROSS JOIN generate_series((now() AT TIME ZONE 'UTC') - interval '${RAW_HOURS} hours', now() AT TIME ZONE 'UTC', interval '10 seconds') ts`);
    const samples = await prisma.metricSample.count();
    log(`${samples} raw samples (${RAW_HOURS} h every 10 s) in ${((Date.now() - t) / 1000).toFixed(1)} s`);

    t = Date.now();
    await prisma.$executeRawUnsafe(`
      INSERT INTO "MetricMinute" ("topicId", minute, "eventsPerSecond", "bytesPerSecond", "lagEvents", "lagSeconds",
        files, errors, samples, "updatedAt")
      SELECT t.id, m, 1000 + random() * 200, 1e6 + random() * 2e5, (random() * 50000)::bigint, random() * 60,
        (random() < 0.3)::int, 0, 6, now()
      FROM "Topic" t
      CROSS JOIN generate_series(date_trunc('minute', now() AT TIME ZONE 'UTC') - interval '${MINUTE_DAYS * 24} hours',
        now() AT TIME ZONE 'UTC', interval '1 minute') m`);
    const minutes = await prisma.metricMinute.count();
    log(`${minutes} per-minute rows (${MINUTE_DAYS} days) in ${((Date.now() - t) / 1000).toFixed(1)} s`);
    // Steady state: a bulk-loaded table would otherwise be vacuumed by autovacuum during the measurements.
    t = Date.now();
    await prisma.$executeRawUnsafe('VACUUM (ANALYZE)');
    log(`VACUUM (ANALYZE) in ${((Date.now() - t) / 1000).toFixed(1)} s`);

    if (process.env.BENCH_EXPLAIN === '1') {
      const { fleetOverview } = await import('../../../packages/api/src/services/telemetry/fleet.ts');
      for (let i = 0; i < 3; i++) {
        const s0 = performance.now();
        await fleetOverview(prisma);
        log(`fleetOverview in-process ${(performance.now() - s0).toFixed(0)} ms`);
      }
    }
    const admin = { email: 'bench@example.com', password: 'bench password 123' };
    await ensureAdmin(prisma, admin.email, admin.password);
    const web = await startWeb(db.url, {
      HUBCAP_MAINTENANCE: 'off',
      ...(process.env.BENCH_PROFILE
        ? { NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${process.env.BENCH_PROFILE}` }
        : {}),
    });
    try {
      const signIn = await fetch(`${web.url}/api/trpc/auth.signIn`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(admin),
      });
      const cookie = signIn.headers.get('set-cookie')!.split(';')[0]!;

      const timePage = async (path: () => string) => {
        const times: number[] = [];
        for (let i = 0; i < PAGE_RUNS + 5; i++) {
          const start = performance.now();
          const res = await fetch(`${web.url}${path()}`, { headers: { cookie } });
          await res.text();
          if (res.status !== 200) throw new Error(`${path()} answered ${res.status}`);
          if (i >= 5) times.push(performance.now() - start);
        }
        return times.sort((a, b) => a - b);
      };
      const api = await timePage(() => '/api/trpc/topic.list');
      log(
        `topic.list over HTTP p50 ${percentile(api, 50).toFixed(0)} ms, p95 ${percentile(api, 95).toFixed(0)} ms`,
      );
      const fleet = await timePage(() => '/');
      const topic = await timePage(
        () => `/topics/topic-${String(Math.floor(Math.random() * TOPICS)).padStart(3, '0')}`,
      );
      log(
        `fleet page p50 ${percentile(fleet, 50).toFixed(0)} ms, p95 ${percentile(fleet, 95).toFixed(0)} ms`,
      );
      log(
        `topic page p50 ${percentile(topic, 50).toFixed(0)} ms, p95 ${percentile(topic, 95).toFixed(0)} ms`,
      );

      // Ingestion: each agent reports its 32 partitions; concurrent senders, one report in flight each.
      let sent = 0;
      let failed = 0;
      const latencies: number[] = [];
      const deadline = Date.now() + INGEST_SECONDS * 1000;
      const started = Date.now();
      const sender = async (k: number) => {
        for (let i = k; Date.now() < deadline; i += INGEST_CONCURRENCY) {
          const { topic: name, token } = tokens[i % tokens.length]!;
          const body = JSON.stringify(sampleReport(name, i, 200_000));
          const start = performance.now();
          const res = await fetch(`${web.url}/api/trpc/agent.report`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
            body,
          });
          await res.text();
          latencies.push(performance.now() - start);
          if (res.status === 200) sent++;
          else failed++;
        }
      };
      await Promise.all(Array.from({ length: INGEST_CONCURRENCY }, (_, k) => sender(k)));
      const seconds = (Date.now() - started) / 1000;
      latencies.sort((a, b) => a - b);
      const rate = sent / seconds;
      log(
        `ingestion ${rate.toFixed(0)} reports/s (${sent} in ${seconds.toFixed(1)} s, ${failed} failed), p95 ${percentile(latencies, 95).toFixed(0)} ms`,
      );

      // Context: the same load on a request that does nearly nothing (one SELECT 1), and the storage
      // path alone (the ingest service called in-process, no HTTP), on the same machine at the same time.
      let pings = 0;
      const pingEnd = Date.now() + 10_000;
      await Promise.all(
        Array.from({ length: INGEST_CONCURRENCY }, async () => {
          while (Date.now() < pingEnd) {
            await (await fetch(`${web.url}/api/readyz`)).text();
            pings++;
          }
        }),
      );
      const pingRate = pings / 10;
      log(`GET /api/readyz ${pingRate.toFixed(0)} requests/s`);
      const { ingestReport } = await import('../../../packages/api/src/services/telemetry/reports.ts');
      const { createPrisma } = await import('@hubcap/db');
      const direct = createPrisma(db.url, { max: 10 });
      const principals = await direct.$queryRaw<{ agentId: string; topicId: string; topicName: string }[]>`
        SELECT a.id AS "agentId", t.id AS "topicId", t.slug AS "topicName" FROM "AgentInstance" a JOIN "Topic" t ON t.id = a."topicId"`;
      let stored = 0;
      const directEnd = Date.now() + 10_000;
      await Promise.all(
        Array.from({ length: INGEST_CONCURRENCY }, async (_, k) => {
          for (let i = k; Date.now() < directEnd; i += INGEST_CONCURRENCY) {
            const principal = principals[i % principals.length]!;
            await ingestReport(direct, principal, sampleReport(principal.topicName, i, 300_000));
            stored++;
          }
        }),
      );
      await direct.$disconnect();
      const directRate = stored / 10;
      log(`ingest service in-process ${directRate.toFixed(0)} reports/s`);
      const load = loadavg()[0]!.toFixed(1);

      if (QUICK) return;
      const results = `# Control-plane benchmark

\`npm run bench\` in \`apps/web\` (\`bench/run.ts\`). Machine: ${cpus().length} cores (${cpus()[0]?.model ?? 'unknown'}), ${(totalmem() / 2 ** 30).toFixed(0)} GiB, shared with other work; PostgreSQL ${process.env.TEST_DATABASE_URL || process.env.DATABASE_URL ? 'server from the environment' : 'embedded (fsync off, as in tests)'}; \`next start\` (production build) with a pool of ten connections.

## Data

- ${TOPICS} topics × ${PARTITIONS} partitions = ${TOPICS * PARTITIONS} partition states, one agent each
- ${samples.toLocaleString('en-US')} raw metric samples: ${RAW_HOURS} h at one report per 10 s per agent (raw samples are kept a day)
- ${minutes.toLocaleString('en-US')} per-minute aggregates: ${MINUTE_DAYS} days (kept a month)

## Results

| What | Target | Result |
| --- | --- | --- |
| Fleet page (\`GET /\`, ${TOPICS} topics, server-rendered), p50 / p95 over ${PAGE_RUNS} requests | p95 ≤ 300 ms | ${percentile(fleet, 50).toFixed(0)} ms / **${percentile(fleet, 95).toFixed(0)} ms** |
| Topic page (\`GET /topics/<random>\`, 32 partitions, 1 h chart), p50 / p95 over ${PAGE_RUNS} requests | p95 ≤ 300 ms | ${percentile(topic, 50).toFixed(0)} ms / **${percentile(topic, 95).toFixed(0)} ms** |
| Report ingestion (\`agent.report\` over HTTP, ${PARTITIONS} partitions each, ${INGEST_CONCURRENCY} concurrent agents, ${INGEST_SECONDS} s) | ≥ 200 reports/s | **${rate.toFixed(0)} reports/s** (${failed} failed; p95 latency ${percentile(latencies, 95).toFixed(0)} ms) |

For context, measured in the same run: \`GET /api/readyz\` (one \`SELECT 1\`) under the same ${INGEST_CONCURRENCY} concurrent
clients answered **${pingRate.toFixed(0)} requests/s**, and the storage path alone (the ingest service called in-process
with a pool of ten, no HTTP) stored **${directRate.toFixed(0)} reports/s**. Load average at the end of the run: ${load}
(other work shares the two cores).

Pages are timed end to end over HTTP with a session cookie (authentication, all queries, React server rendering).
The fleet query sums partition states per topic and reads files per hour from the per-minute table, so it does not
grow with raw samples; a report is stored with a single SQL statement (rows passed as JSON), not one statement per partition.
`;
      const out = join(dirname(fileURLToPath(import.meta.url)), 'results.md');
      // The onboarding section is e2e/onboarding.test.ts's (UPDATE_BENCH=1): kept as it is.
      const previous = existsSync(out) ? readFileSync(out, 'utf8') : '';
      const onboarding = /<!-- onboarding:start[\s\S]*?<!-- onboarding:end -->/.exec(previous)?.[0];
      writeFileSync(out, onboarding ? `${results}\n${onboarding}\n` : results);
      log(`wrote ${out}`);
    } finally {
      await web.close();
    }
  } finally {
    await db.drop();
    await teardown();
  }
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
