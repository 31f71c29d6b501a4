/**
 * Storage stall at 3× the seed's rate: `node bench/stall.ts` (env BENCH_STALL_SECONDS, default 300).
 * A steady producer sends 10,500 events/s of ~1 KB to 4 partitions; the agent (NDJSON + gzip, product
 * defaults, heap as the deployer sets it for 256Mi) writes to Azurite through a proxy that stops
 * forwarding for the stall, then forwards again. Prints the agent's RSS per phase and checks that
 * every event is in the lake exactly once.
 */
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { EventHubProducerClient } from '@azure/event-hubs';
import { spawnAzurite } from '@hubcap/local-azurite';
import { startLocalEventHubs } from '@hubcap/local-eventhubs';
import { agentProcessEnv } from '@hubcap/shared';
import { checkpointed } from '../test/checkpoints.ts';
import { checkLake, startAgent } from '../test/harness.ts';
import { stallingProxy, stallTopic } from '../test/stalling-proxy.ts';
import { jsonEvent } from './events.ts';

const RATE = 3 * 3500;
const WARMUP_SECONDS = 60;
const STALL_SECONDS = Number(process.env.BENCH_STALL_SECONDS ?? 300);
const AFTER_SECONDS = 60;
const MEMORY = '256Mi';
const PARTITIONS = ['0', '1', '2', '3'];
const log = (line: string) => process.stdout.write(`${new Date().toISOString()} ${line}\n`);

const eh = await startLocalEventHubs({ hubs: [{ name: 'stall', partitionCount: 4 }], port: 0 });
const azurite = await spawnAzurite();
const azuritePort = Number(/BlobEndpoint=http:\/\/127\.0\.0\.1:(\d+)/.exec(azurite.connectionString)?.[1]);
const proxy = await stallingProxy({ host: '127.0.0.1', port: azuritePort });
const lake = await azurite.container('stall-lake');
const checkpoints = await azurite.container('stall-checkpoints');
const ehConnection = eh.connectionString('stall');

const agent = startAgent(stallTopic(eh.port, ehConnection, proxy, MEMORY), {
  ...agentProcessEnv(MEMORY),
  // Product defaults (the harness shortens them for tests).
  HUBCAP_MAX_WAIT_SECONDS: '1',
  HUBCAP_LB_UPDATE_INTERVAL_MS: '10000',
  HUBCAP_LB_OWNERSHIP_EXPIRY_MS: '60000',
});
await agent.started;

const rssMiB = () => {
  const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${agent.child.pid}/status`, 'utf8'))?.[1];
  return Number(kb) / 1024;
};
const phases: Record<string, number> = {};
let phase = 'warm-up';
const sampler = setInterval(() => {
  phases[phase] = Math.max(phases[phase] ?? 0, rssMiB());
}, 500);

const producer = new EventHubProducerClient(ehConnection, 'stall');
let sent = 0;
let sending = true;
const send = (async () => {
  const started = performance.now();
  for (let tick = 0; sending; tick++) {
    const p = tick % PARTITIONS.length;
    let batch = await producer.createBatch({ partitionId: PARTITIONS[p]! });
    for (let i = 0; i < RATE / 10; i++) {
      const event = { body: jsonEvent(sent, 1024) };
      if (!batch.tryAdd(event)) {
        await producer.sendBatch(batch);
        batch = await producer.createBatch({ partitionId: PARTITIONS[p]! });
        batch.tryAdd(event);
      }
      sent++;
    }
    await producer.sendBatch(batch);
    const wait = started + (tick + 1) * 100 - performance.now();
    if (wait > 0) await sleep(wait);
  }
})();

log(`warm-up ${WARMUP_SECONDS} s at ${RATE} events/s`);
await sleep(WARMUP_SECONDS * 1000);
log(`storage stalls for ${STALL_SECONDS} s`);
phase = 'stall';
proxy.stall();
for (let s = 0; s < STALL_SECONDS; s += 30) {
  await sleep(30_000);
  log(`  stalled ${s + 30} s: RSS ${rssMiB().toFixed(0)} MiB, peak ${phases.stall?.toFixed(0)} MiB`);
}
proxy.resume();
phase = 'after';
log(`storage back; ${AFTER_SECONDS} s more traffic`);
await sleep(AFTER_SECONDS * 1000);
sending = false;
await send;
await producer.close();
phase = 'catch-up';
log(`sent ${sent}; waiting for every event to be checkpointed`);
const catchUpStarted = performance.now();
const total = async () => (await checkpointed(checkpoints, PARTITIONS.length)).reduce((a, s) => a + s + 1, 0);
while ((await total()) < sent) await sleep(1000);
const catchUpSeconds = (performance.now() - catchUpStarted) / 1000;
clearInterval(sampler);
agent.kill('SIGTERM');
await agent.exited;
const alive = !agent.lines.some((l) => /heap out of memory|FATAL ERROR/.test(l));
log('reading the lake back');
const ids = Array.from({ length: sent }, (_, i) => `e-${i}`);
const check = await checkLake(lake, ids);
const line = `- Storage stall of ${STALL_SECONDS} s at ${RATE} events/s (3× the seed), NDJSON + gzip, \`scaling.memory: ${MEMORY}\`, product defaults: peak RSS warm-up ${phases['warm-up']?.toFixed(0)} MiB, stall ${phases.stall?.toFixed(0)} MiB, after ${phases.after?.toFixed(0)} MiB, catch-up ${phases['catch-up']?.toFixed(0)} MiB; ${alive ? 'no crash' : 'CRASHED (heap)'}; caught up ${catchUpSeconds.toFixed(0)} s after the traffic stopped; ${sent} events sent, ${check.missing.length} missing, ${check.duplicated.length} duplicated, ${check.files} files (load ${loadavg()[0]!.toFixed(1)}).\n`;
log(line);
await proxy.close();
await azurite.close();
await eh.close();
process.exit(0);
