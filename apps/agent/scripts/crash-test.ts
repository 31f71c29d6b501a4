/**
 * The large crash test: `node scripts/crash-test.ts [eventsPerPartition] [kills]`
 * (defaults: 50 000 events × 4 partitions = 200 000 events, 24 kills, then 2 replicas with 8 kills).
 */
import { runCrashScenario } from '../test/crash.ts';

const eventsPerPartition = Number(process.argv[2] ?? 50_000);
const kills = Number(process.argv[3] ?? 24);
const log = (line: string) => process.stdout.write(`${new Date().toISOString()} ${line}\n`);

const runs = [
  {
    name: '1 replica, NDJSON+gzip',
    replicas: 1 as const,
    kills,
    format: { type: 'ndjson' as const, compression: 'gzip' as const },
  },
  {
    name: '2 replicas, Avro',
    replicas: 2 as const,
    kills: Math.max(8, Math.floor(kills / 3)),
    format: { type: 'avro' as const, codec: 'deflate' as const },
  },
];
let failed = false;
for (const run of runs) {
  log(`== ${run.name}: ${eventsPerPartition * 4} events over 4 partitions, ${run.kills} kills`);
  const result = await runCrashScenario({
    partitions: 4,
    eventsPerPartition,
    waves: 8,
    kills: run.kills,
    replicas: run.replicas,
    format: run.format,
    batching: { maxEvents: 5000, maxAgeSeconds: 2 },
    killAfterMs: [500, 4000],
    timeoutMs: 600_000,
    log,
  });
  const ok = result.missing.length === 0 && result.duplicated.length === 0 && result.unexpected.length === 0;
  failed ||= !ok;
  log(
    `${ok ? 'PASS' : 'FAIL'} ${run.name}: produced ${result.produced}, in lake ${result.events} events in ${result.files} files, ` +
      `missing ${result.missing.length}, duplicated ${result.duplicated.length}, kills ${result.kills} ` +
      `(${result.killsBetweenCommitAndCheckpoint} between publish and checkpoint), replay rewrites ${result.replayRewrites}, ${result.seconds.toFixed(0)} s`,
  );
}
process.exit(failed ? 1 : 0);
