import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Child processes of the platform. Their pids are written to a file so that, after the launcher itself
 * was killed with SIGKILL (its children then live on as orphans), the next start stops them first.
 * A process is recognised by pid and start time, since servers such as Next.js rename themselves.
 */
export interface Child {
  name: string;
  process: ChildProcess;
  /** Resolves with the exit code once the process has exited. */
  exited: Promise<number | null>;
  stop(timeoutMs?: number): Promise<void>;
}

interface PidRecord {
  name: string;
  pid: number;
  /** Kernel start time of the process: a reused pid has another one. */
  startTime: string;
}

export class ChildRegistry {
  readonly #file: string;
  readonly #children = new Map<string, Child>();

  constructor(pidFile: string) {
    this.#file = pidFile;
  }

  /** Stops processes a previous, killed launcher left behind (checked by pid and command line). */
  async reapOrphans(log: (line: string) => void): Promise<void> {
    if (!existsSync(this.#file)) return;
    const records = JSON.parse(readFileSync(this.#file, 'utf8')) as PidRecord[];
    for (const record of records) {
      const running = () => startTimeOf(record.pid) === record.startTime;
      if (!running()) continue;
      log(`stopping ${record.name} (pid ${record.pid}) left over from a previous run`);
      process.kill(record.pid, 'SIGTERM');
      for (let i = 0; i < 50 && running(); i++) await sleep(100);
      if (running()) process.kill(record.pid, 'SIGKILL');
    }
    this.#save();
  }

  spawn(
    name: string,
    command: string,
    args: string[],
    options: { cwd?: string; env?: NodeJS.ProcessEnv; output?: (line: string) => void },
  ): Child {
    // Its own process group: Ctrl-C in a terminal signals the whole foreground group at once, which
    // would stop storage while agents still drain into it. The launcher stops children in order instead.
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    const output = options.output ?? (() => {});
    for (const stream of [child.stdout, child.stderr]) {
      let pending = '';
      stream.setEncoding('utf8');
      stream.on('data', (chunk: string) => {
        const lines = (pending + chunk).split('\n');
        pending = lines.pop() ?? '';
        for (const line of lines) if (line.trim()) output(line);
      });
    }
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const entry: Child = {
      name,
      process: child,
      exited,
      stop: async (timeoutMs = 10_000) => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
        await exited;
        clearTimeout(timer);
      },
    };
    this.#children.set(name, entry);
    void exited.then(() => {
      this.#children.delete(name);
      this.#save();
    });
    this.#save();
    return entry;
  }

  /** Stops every child, most recently started first. */
  async stopAll(): Promise<void> {
    for (const child of [...this.#children.values()].reverse()) await child.stop();
  }

  #save(): void {
    const records: PidRecord[] = [];
    for (const { name, process: p } of this.#children.values()) {
      const startTime = p.pid === undefined ? null : startTimeOf(p.pid);
      if (startTime) records.push({ name, pid: p.pid!, startTime });
    }
    writeFileSync(this.#file, JSON.stringify(records));
  }
}

/** Field 22 of /proc/<pid>/stat (start time in clock ticks since boot); null once the process is gone. */
function startTimeOf(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may contain spaces; fields after it are space-separated.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null;
  } catch {
    return null;
  }
}
