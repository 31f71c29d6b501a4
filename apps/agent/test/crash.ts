import { setTimeout as sleep } from 'node:timers/promises';
import { BlobStore, type VerifyReport, verify } from '@hubcap/lake';
import { type Azurite, startAzurite } from '@hubcap/local-azurite';
import { startLocalEventHubs } from '@hubcap/local-eventhubs';
import { PATH_PRESETS, type TopicConfigInput } from '@hubcap/shared';
import { type AgentProcess, checkLake, expectedIds, type LakeCheck, produce, startAgent } from './harness.ts';

export interface CrashScenario {
  partitions: number;
  /** Events per partition, produced in `waves` waves while agents run and die. */
  eventsPerPartition: number;
  waves: number;
  kills: number;
  /** Run two replicas at once (each kill hits one of them). */
  replicas: 1 | 2;
  format?: TopicConfigInput['format'];
  batching?: TopicConfigInput['batching'];
  /** Random delay before a kill, in ms. */
  killAfterMs: [number, number];
  timeoutMs?: number;
  log?: (line: string) => void;
  /**
   * Each wave in its own hourly window, in the agents' future (the Event Hubs server's clock is set
   * per wave), so only the next wave's files seal a window; the result then holds `hubcap verify`'s
   * report of the lake.
   */
  windows?: boolean;
}

export interface CrashResult extends LakeCheck {
  produced: number;
  kills: number;
  killsBetweenCommitAndCheckpoint: number;
  /** Files found committed-but-not-checkpointed at restart, and rewritten with the same boundaries. */
  replayRewrites: number;
  seconds: number;
  completeness?: VerifyReport;
}

/**
 * Produces events with the SDK producer into the local Event Hubs server, runs the agent as child
 * processes, `kill -9`s them at random moments (every other kill lands between a file's publish and
 * its checkpoint, through the HUBCAP_TEST_PAUSE_AFTER_COMMIT_MS hook), restarts them, then drains a
 * final agent and checks every produced event is in the lake exactly once.
 */
export async function runCrashScenario(s: CrashScenario): Promise<CrashResult> {
  const started = Date.now();
  const log = s.log ?? (() => {});
  const hub = 'crash';
  const hour = 3600_000;
  const firstWindow = (Math.floor(Date.now() / hour) + 1) * hour;
  let clock = firstWindow + 1000;
  const eh = await startLocalEventHubs({
    hubs: [{ name: hub, partitionCount: s.partitions }],
    port: 0,
    ...(s.windows ? { now: () => clock } : {}),
  });
  let azurite: Azurite | undefined;
  const agents = new Set<AgentProcess>();
  let replayRewrites = 0;
  try {
    azurite = await startAzurite();
    const lake = await azurite.container('lake');
    await azurite.container('hubcap-checkpoints');
    const connectionString = eh.connectionString(hub);
    const partitions = Array.from({ length: s.partitions }, (_, i) => String(i));
    const config: TopicConfigInput = {
      topic: 'crash',
      source: {
        fullyQualifiedNamespace: `127.0.0.1:${eh.port}`,
        eventHubName: hub,
        auth: { kind: 'connectionString', connectionString },
      },
      destination: {
        kind: 'azureBlob',
        account: { kind: 'connectionString', connectionString: azurite.connectionString },
        container: 'lake',
        prefix: 'raw',
      },
      format: s.format ?? { type: 'ndjson', compression: 'gzip' },
      batching: s.batching ?? { maxEvents: 1000, maxAgeSeconds: 1 },
    };
    let replicaSeq = 0;
    const launch = (pause: boolean) => {
      const agent = startAgent(config, {
        HUBCAP_AGENT_ID: `replica-${++replicaSeq}`,
        HUBCAP_LOG_LEVEL: 'debug',
        HUBCAP_TEST_PAUSE_AFTER_COMMIT_MS: pause ? '400' : '0',
      });
      agents.add(agent);
      void agent.exited.then(() => {
        agents.delete(agent);
        replayRewrites += agent.lines.filter((l) => l.includes('never checkpointed; rewriting')).length;
      });
      return agent;
    };

    const perWave = Math.ceil(s.eventsPerPartition / s.waves);
    let produced = 0;
    let wave = 0;
    const produceWave = async () => {
      if (wave >= s.waves) return;
      const from = wave * perWave;
      const count = Math.min(perWave, s.eventsPerPartition - from);
      clock = firstWindow + wave * hour + 1000;
      wave++;
      produced += await produce(connectionString, hub, partitions, count, { from });
    };
    await produceWave();

    let killsBetween = 0;
    const running: AgentProcess[] = [];
    for (let kill = 0; kill < s.kills; kill++) {
      while (running.length < s.replicas) running.push(launch(kill % 2 === 0));
      const victimIndex = Math.floor(Math.random() * running.length);
      const victim = running[victimIndex]!;
      const between = kill % 2 === 0 && victim.lines.length >= 0;
      if (between) {
        // Kill while a file is published but not yet checkpointed.
        await victim
          .waitForLine((l) => l.msg === 'file published; checkpointing', 30_000)
          .then(() => sleep(50))
          .then(() => killsBetween++)
          .catch(() => log(`kill ${kill}: no publish seen in time; killing anyway`));
      } else {
        const [lo, hi] = s.killAfterMs;
        await sleep(lo + Math.random() * (hi - lo));
      }
      victim.kill('SIGKILL');
      await victim.exited;
      running.splice(victimIndex, 1);
      log(`kill ${kill + 1}/${s.kills} (${between ? 'between publish and checkpoint' : 'random moment'})`);
      if (kill % Math.max(1, Math.floor(s.kills / s.waves)) === 0) await produceWave();
    }
    while (wave < s.waves) await produceWave();

    // Final run: replicas without the pause hook until every event is in the lake, then a clean stop.
    while (running.length < s.replicas) running.push(launch(false));
    const expected = expectedIds(partitions, s.eventsPerPartition);
    const deadline = Date.now() + (s.timeoutMs ?? 120_000);
    let check = await checkLake(lake, expected, 'raw/');
    while (check.missing.length > 0 && Date.now() < deadline) {
      await sleep(1000);
      check = await checkLake(lake, expected, 'raw/');
      log(`waiting: ${check.events}/${expected.length} events in ${check.files} files`);
    }
    // Every event can be in the lake through files a killed replica published and never checkpointed
    // (nor sealed the window before): the final replicas replay them, and seal, before stopping.
    const template = config.pathTemplate ?? PATH_PRESETS.capture;
    const audit = () => verify(new BlobStore(lake), { prefix: 'raw', template });
    while (s.windows && Date.now() < deadline && (await audit()).cells.some((c) => c.problems.length > 0)) {
      await sleep(1000);
      log('waiting: windows not sealed yet');
    }
    // A replica launched last may still be starting (all events can land through the other one).
    await Promise.all(running.map((a) => a.started));
    for (const agent of running) agent.kill('SIGTERM');
    const codes = await Promise.all(running.map((a) => a.exited));
    if (codes.some((c) => c !== 0)) throw new Error(`final agents exited with ${codes.join(', ')}`);
    check = await checkLake(lake, expected, 'raw/');
    return {
      ...check,
      ...(s.windows ? { completeness: await audit() } : {}),
      produced,
      kills: s.kills,
      killsBetweenCommitAndCheckpoint: killsBetween,
      replayRewrites,
      seconds: (Date.now() - started) / 1000,
    };
  } finally {
    for (const agent of agents) agent.kill('SIGKILL');
    await Promise.all([...agents].map((a) => a.exited));
    await azurite?.close();
    await eh.close();
  }
}
