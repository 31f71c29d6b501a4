import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Loaded into every local agent with `node --import`: when the runner's end of stdin closes (the
 * runner exited or was killed), the agent gets SIGTERM and drains, so no agent outlives its
 * control plane; a hard exit follows if draining hangs. Needs no change in the agent.
 */
const EXIT_WITH_PARENT = [
  'process.stdin.on("end", () => {',
  '  process.kill(process.pid, "SIGTERM");',
  '  setTimeout(() => process.exit(1), 60000).unref();',
  '});',
  'process.stdin.on("error", () => {});',
  'process.stdin.resume();',
  'process.stdin.unref?.();',
].join('\n');

export const EXIT_WITH_PARENT_IMPORT = `data:text/javascript,${encodeURIComponent(EXIT_WITH_PARENT)}`;

/** Field 22 of /proc/<pid>/stat (start time since boot); null once the process is gone or off Linux. */
export function startTimeOf(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null;
  } catch {
    return null;
  }
}

export interface PidRecord {
  name: string;
  pid: number;
  startTime: string | null;
}

export function writePidFile(file: string, records: PidRecord[]): void {
  writeFileSync(file, JSON.stringify(records));
}

/** The records of a pid file; none when it is missing or unreadable (a runner killed mid-write). */
function readPidFile(file: string): PidRecord[] {
  if (!existsSync(file)) return [];
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as PidRecord[];
  } catch {
    return [];
  }
}

/** Whether the recorded process still runs: its pid and start time both match (a reused pid does not). */
function isRunning(record: PidRecord): boolean {
  return record.startTime !== null && startTimeOf(record.pid) === record.startTime;
}

/**
 * Stops agents a previous runner left behind (it was killed before it could stop them); a process
 * is only touched when its pid and start time both match, so a reused pid is left alone.
 */
export async function reapOrphans(file: string, log: (line: string) => void): Promise<number> {
  let reaped = 0;
  for (const record of readPidFile(file)) {
    const alive = () => isRunning(record);
    if (!alive()) continue;
    log(`stopping agent ${record.name} (pid ${record.pid}) left over from a previous run`);
    process.kill(record.pid, 'SIGTERM');
    for (let i = 0; i < 300 && alive(); i++) await sleep(100);
    if (alive()) process.kill(record.pid, 'SIGKILL');
    reaped++;
  }
  writePidFile(file, []);
  return reaped;
}

/**
 * Waits for the agents recorded in the pid file to exit (they were already told to stop), then
 * kills those still running after `timeoutMs`. Returns how many had to be killed.
 */
export async function waitForRecordedAgents(file: string, timeoutMs: number): Promise<number> {
  const records = readPidFile(file);
  const deadline = Date.now() + timeoutMs;
  while (records.some(isRunning) && Date.now() < deadline) await sleep(100);
  const survivors = records.filter(isRunning);
  for (const r of survivors) process.kill(r.pid, 'SIGKILL');
  writePidFile(file, []);
  return survivors.length;
}
