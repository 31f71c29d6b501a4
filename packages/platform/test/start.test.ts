import type { ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { alive, dataFolder, exited, launch } from './launcher.ts';

/**
 * `npm start` end to end: the launcher brings the dashboard up on embedded defaults, a restart keeps the
 * data, Ctrl-C leaves nothing running, and a launcher killed with SIGKILL is cleaned up by the next start.
 */
const dataDir = dataFolder('hubcap-platform-');

interface Started {
  process: ChildProcess;
  url: string;
  output: () => string;
}

function start(): Promise<Started> {
  const { process: child, output } = launch(dataDir, { eventsPerSecond: 20, detached: true });
  launchers.push(child);
  return new Promise((resolve, reject) => {
    const onData = () => {
      const match = /Dashboard\s+(http:\/\/\S+)/.exec(output());
      if (match) resolve({ process: child, url: match[1]!, output });
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => reject(new Error(`launcher exited with ${code}:\n${output()}`)));
  });
}

/** The pids still alive after a short grace period (PostgreSQL exits just after removing its pid file). */
async function survivors(pids: number[]): Promise<number[]> {
  for (let i = 0; i < 50 && pids.some(alive); i++) await new Promise((r) => setTimeout(r, 100));
  return pids.filter(alive);
}

function postgresPid(): number | null {
  const pidFile = join(dataDir, 'postgres', 'postmaster.pid');
  return existsSync(pidFile) ? Number(readFileSync(pidFile, 'utf8').split('\n')[0]) : null;
}

/** Every process the platform runs besides the launcher: its children and PostgreSQL. */
function platformPids(): number[] {
  const pg = postgresPid();
  return [...childPids(), ...(pg ? [pg] : [])];
}

function childPids(): number[] {
  const file = join(dataDir, 'children.json');
  return existsSync(file)
    ? (JSON.parse(readFileSync(file, 'utf8')) as Array<{ pid: number }>).map((c) => c.pid)
    : [];
}

async function signIn(url: string, email: string, password: string): Promise<string | null> {
  const response = await fetch(`${url}/api/trpc/auth.signIn`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email, password }),
  });
  return response.ok ? response.headers.get('set-cookie') : null;
}

const launchers: ChildProcess[] = [];

afterAll(async () => {
  // A failed assertion must not leave a platform running.
  for (const launcher of launchers) launcher.kill('SIGTERM');
  await Promise.all(launchers.map(exited));
  for (const pid of platformPids().filter(alive)) process.kill(pid, 'SIGKILL');
  rmSync(dataDir, { recursive: true, force: true });
});

describe('npm start (local platform)', () => {
  let password = '';

  it('serves the dashboard and prints how to sign in; Ctrl-C stops agents before storage, then every process', async () => {
    const platform = await start();
    const credentials = /Sign in\s+(\S+) \/ (\S+)/.exec(platform.output());
    expect(credentials, platform.output()).not.toBeNull();
    password = credentials![2]!;

    const page = await fetch(platform.url);
    expect(page.status).toBe(200);
    expect(page.url).toMatch(/\/sign-in$/);

    const cookie = await signIn(platform.url, credentials![1]!, password);
    expect(cookie).toMatch(/^hubcap_session=hs_[\w-]+; Path=\/; HttpOnly; SameSite=Lax/);
    const fleet = await fetch(platform.url, { headers: { cookie: cookie!.split(';')[0]! } });
    expect(fleet.status).toBe(200);
    expect(await fleet.text()).toContain('Fleet');

    // The local connection strings are printed, and the onboarding form offers to fill them in.
    expect(platform.output()).toMatch(
      /Event Hubs {2}Endpoint=sb:\/\/127\.0\.0\.1:\d+;\S+UseDevelopmentEmulator=true\n/,
    );
    expect(platform.output()).toMatch(
      /\(hub "trial", consumer group "hubcap-trial"; the demo topic reads "demo"\)/,
    );
    expect(platform.output()).toMatch(
      /Storage {5}DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;/,
    );
    const form = await fetch(`${platform.url}/topics/new`, { headers: { cookie: cookie!.split(';')[0]! } });
    expect(await form.text()).toContain('Use the local services');

    const pids = platformPids();
    expect(pids.length).toBeGreaterThanOrEqual(3);
    // Ctrl-C: SIGINT to every process of the terminal's foreground group at once.
    process.kill(-platform.process.pid!, 'SIGINT');
    expect(await exited(platform.process)).toBe(0);
    expect(await survivors(pids)).toEqual([]);
    const order = ['stopped web server and agents', 'stopped local Event Hubs', 'Azurite exited'].map(
      (line) => platform.output().indexOf(`hubcap: ${line}`),
    );
    expect(
      order.every((i) => i >= 0) && order[0]! < order[1]! && order[1]! < order[2]!,
      platform.output(),
    ).toBe(true);
  }, 120_000);

  it('recovers after the launcher is killed with SIGKILL, keeping the data', async () => {
    const first = await start();
    const orphans = platformPids();
    first.process.kill('SIGKILL');
    await exited(first.process);
    expect(orphans.some(alive)).toBe(true);

    const second = await start();
    expect(orphans.filter(alive)).toEqual([]);
    expect(second.output()).toContain('with the password in');
    expect(await signIn(second.url, 'admin@hubcap.local', password)).not.toBeNull();

    second.process.kill('SIGTERM');
    const pids = platformPids();
    expect(await exited(second.process)).toBe(0);
    expect(await survivors(pids)).toEqual([]);
  }, 180_000);
});
