import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { startTimeOf } from '../src/local/processes.ts';
import { LocalRunner } from '../src/local/runner.ts';
import { EH_SECRET, ordersConfig } from './fixtures.ts';

const FAKE_AGENT = fileURLToPath(new URL('./fake-agent.mjs', import.meta.url));
const HOST = fileURLToPath(new URL('./runner-host.ts', import.meta.url));
const topic = { id: 'cm1topic0orders', name: 'orders' };
const alive = (pid: number) => startTimeOf(pid) !== null;

async function until<T>(
  what: string,
  check: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 15_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

let runner: LocalRunner | undefined;
afterEach(async () => {
  await runner?.close();
  runner = undefined;
});

describe('local runner (real child processes, a stand-in agent)', () => {
  it('starts, reports ready from /readyz, keeps logs, pauses, resumes, removes, and stops everything on close', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hubcap-runner-'));
    const pidFile = join(dir, 'agents.json');
    runner = new LocalRunner({
      agentEntry: FAKE_AGENT,
      env: { FAKE_MODE: 'serve' },
      controlPlaneUrl: 'http://127.0.0.1:9',
      pidFile,
    });
    const config = ordersConfig({ scaling: { replicas: 2 } });
    const applied = await runner.apply({ topic, config, configVersion: 1, agentToken: 'hca_x' });
    expect(applied.drift).toEqual([]); // starting agents that never ran is not drift
    const running = await until('2 ready agents', async () => {
      const s = await runner!.status(topic);
      return s.readyReplicas === 2 ? s : undefined;
    });
    expect(running).toMatchObject({ phase: 'running', desiredReplicas: 2, message: '2/2 ready.' });
    const pids = runner.pids(topic);
    expect(pids).toHaveLength(2);
    expect(
      JSON.parse(readFileSync(pidFile, 'utf8'))
        .map((r: { pid: number }) => r.pid)
        .sort(),
    ).toEqual([...pids].sort());

    const logs = await runner.logs(topic);
    expect(
      logs.some((l) => l.line.includes('"agentId":"orders-1"') && l.line.includes('"hasToken":true')),
    ).toBe(true);
    expect(JSON.stringify(logs)).not.toContain(EH_SECRET);

    // Same spec again: nothing restarts.
    await runner.apply({ topic, config, configVersion: 1, agentToken: 'hca_x' });
    expect(runner.pids(topic)).toEqual(pids);

    expect((await runner.pause(topic)).phase).toBe('paused');
    expect(pids.filter(alive)).toEqual([]);
    expect((await runner.logs(topic)).some((l) => l.line.includes('stopping: draining'))).toBe(true);

    await runner.resume(topic);
    await until('ready after resume', async () =>
      (await runner!.status(topic)).readyReplicas === 2 ? true : undefined,
    );
    const resumed = runner.pids(topic);
    await runner.remove(topic);
    expect(resumed.filter(alive)).toEqual([]);
    expect((await runner.status(topic)).phase).toBe('deleted');

    await runner.apply({ topic, config, configVersion: 2, agentToken: 'hca_y' });
    const last = runner.pids(topic);
    await runner.close();
    await runner.close();
    expect(last.filter(alive)).toEqual([]);
    expect(JSON.parse(readFileSync(pidFile, 'utf8'))).toEqual([]);
    rmSync(dir, { recursive: true, force: true });
  });

  it('restarts a crashing agent with doubling delays and reports it failed with the last exit and error line', async () => {
    runner = new LocalRunner({
      agentEntry: FAKE_AGENT,
      env: { FAKE_MODE: 'crash' },
      backoff: { initialMs: 50, maxMs: 400, stableMs: 10_000 },
    });
    await runner.apply({
      topic,
      config: ordersConfig({ scaling: { replicas: 1 } }),
      configVersion: 1,
      agentToken: 't',
    });
    const status = await until('4 restarts', async () => {
      const s = await runner!.status(topic);
      return s.replicas[0]!.restarts >= 4 ? s : undefined;
    });
    expect(status.phase).toBe('failed');
    expect(status.replicas[0]!.lastTermination).toMatchObject({
      reason: 'exit code 2',
      exitCode: 2,
      message: 'hubcap-agent: config is invalid: source.eventHubName is required',
    });
    expect(status.message).toMatch(
      /orders-0 restarted \d+ times \(last: exit code 2: hubcap-agent: config is invalid/,
    );
    const delays = (await runner.logs(topic))
      .map((l) => /restarting in (\d+) ms/.exec(l.line)?.[1])
      .filter((d) => d !== undefined)
      .map(Number);
    expect(delays.slice(0, 4)).toEqual([50, 100, 200, 400]);
  });

  it('an agent notices when the process running it is killed with SIGKILL, and exits', async () => {
    const host = spawn(process.execPath, [HOST, FAKE_AGENT], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    host.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
    });
    const { pids } = await until('the host to start its agent', () => {
      const line = out.split('\n').find((l) => l.startsWith('{'));
      return line ? (JSON.parse(line) as { pids: number[] }) : undefined;
    });
    expect(pids).toHaveLength(1);
    expect(alive(pids[0]!)).toBe(true);
    host.kill('SIGKILL');
    await until('the orphaned agent to exit', () => (alive(pids[0]!) ? undefined : true), 10_000);
  });

  it('reaps agents a killed runner left behind, by pid file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hubcap-runner-'));
    const pidFile = join(dir, 'agents.json');
    // As if the first runner had been killed before it could stop its agent.
    const first = new LocalRunner({ agentEntry: FAKE_AGENT, env: { FAKE_MODE: 'serve' }, pidFile });
    await first.apply({
      topic,
      config: ordersConfig({ scaling: { replicas: 1 } }),
      configVersion: 1,
      agentToken: 't',
    });
    const [pid] = first.pids(topic);
    const second = new LocalRunner({ agentEntry: FAKE_AGENT, pidFile });
    const lines: string[] = [];
    expect(await second.reapOrphans((l) => lines.push(l))).toBe(1);
    expect(alive(pid!)).toBe(false);
    expect(lines[0]).toMatch(/stopping agent orders-0 \(pid \d+\) left over/);
    await first.close();
    rmSync(dir, { recursive: true, force: true });
  });
});
