import { type ChildProcess, spawn } from 'node:child_process';
import { chmodSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const launcher = new URL('../src/start.ts', import.meta.url).pathname;

/** A data folder for one test file's platform. */
export function dataFolder(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  // As root, embedded PostgreSQL runs as the "postgres" user, which must be able to enter the folder.
  chmodSync(dir, 0o755);
  return dir;
}

export interface Launched {
  process: ChildProcess;
  /** Everything it printed so far, stdout and stderr. */
  output: () => string;
}

/** Runs `npm start`'s launcher on embedded defaults and free ports, with sample traffic at the given rate. */
export function launch(
  dataDir: string,
  { eventsPerSecond, detached = false }: { eventsPerSecond: number; detached?: boolean },
): Launched {
  const child = spawn(process.execPath, [launcher], {
    env: {
      ...process.env,
      DATABASE_URL: '',
      HUBCAP_DATA_DIR: dataDir,
      PORT: '0',
      HUBCAP_BLOB_PORT: '0',
      HUBCAP_EVENTHUBS_PORT: '0',
      HUBCAP_DEMO_EVENTS_PER_SECOND: String(eventsPerSecond),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
    // Detached: its own process group, as a terminal gives it, so Ctrl-C can signal the whole group.
    detached,
  });
  let output = '';
  for (const stream of [child.stdout, child.stderr])
    stream.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return { process: child, output: () => output };
}

export function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
