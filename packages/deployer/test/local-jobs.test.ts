// One-off runs (replays) as supervised child processes: done at exit 0, restarted after a failure up
// to the backoff limit, stopped on removal, and removed with their topic.
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { LocalRunner } from '../src/local/runner.ts';
import { JOB_BACKOFF_LIMIT, type JobStatus } from '../src/types.ts';
import { ordersConfig } from './fixtures.ts';

const FAKE_AGENT = fileURLToPath(new URL('./fake-agent.mjs', import.meta.url));
const topic = { id: 'cm1topic0orders', name: 'orders' };

let runner: LocalRunner | undefined;
afterEach(async () => {
  await runner?.close();
  runner = undefined;
});

const job = (mode: string, name = 'replay-r1') => ({
  topic,
  name,
  config: ordersConfig(),
  configVersion: 1,
  agentToken: 'hca_run',
  env: { FAKE_MODE: mode, HUBCAP_REPLAY_ID: 'r1' },
});

async function until(what: string, check: () => Promise<JobStatus>, phase: JobStatus['phase']) {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const status = await check();
    if (status.phase === phase) return status;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(status)}`);
    await sleep(50);
  }
}

describe('local runner one-off runs (real child processes, a stand-in agent)', () => {
  it('a run that exits 0 is done and not restarted', async () => {
    runner = new LocalRunner({ agentEntry: FAKE_AGENT, controlPlaneUrl: 'http://127.0.0.1:9' });
    expect((await runner.runJob(job('done'))).phase).toBe('running');
    const done = await until('completion', () => runner!.jobStatus(topic, 'replay-r1'), 'succeeded');
    expect(done).toMatchObject({ restarts: 0, message: 'Completed.' });
    await sleep(300);
    expect((await runner.jobStatus(topic, 'replay-r1')).phase).toBe('succeeded');
  });

  it('a failing run is restarted up to the backoff limit, then failed with its last exit', async () => {
    runner = new LocalRunner({
      agentEntry: FAKE_AGENT,
      controlPlaneUrl: 'http://127.0.0.1:9',
      backoff: { initialMs: 10, maxMs: 20 },
    });
    await runner.runJob(job('crash'));
    const failed = await until('failure', () => runner!.jobStatus(topic, 'replay-r1'), 'failed');
    expect(failed.restarts).toBe(JOB_BACKOFF_LIMIT);
    expect(failed.lastTermination).toMatchObject({ exitCode: 2 });
    expect(failed.message).toBe(`Failed after ${JOB_BACKOFF_LIMIT + 1} attempts (exit code 2).`);
  });

  it('removeJob stops a running run; removing the topic stops its runs', async () => {
    runner = new LocalRunner({ agentEntry: FAKE_AGENT, controlPlaneUrl: 'http://127.0.0.1:9' });
    await runner.runJob(job('serve'));
    await runner.runJob(job('serve', 'replay-r2'));
    await sleep(300);
    await runner.removeJob(topic, 'replay-r1');
    expect((await runner.jobStatus(topic, 'replay-r1')).phase).toBe('deleted');
    expect((await runner.jobStatus(topic, 'replay-r2')).phase).toBe('running');
    await runner.remove(topic);
    expect((await runner.jobStatus(topic, 'replay-r2')).phase).toBe('deleted');
  });
});
