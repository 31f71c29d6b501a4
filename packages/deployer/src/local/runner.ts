import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { agentProcessEnv, restartReason } from '@hubcap/shared';
import {
  type AgentDeploymentSpec,
  type AgentJobSpec,
  type AgentLogLine,
  type AgentReplicaStatus,
  type AgentTermination,
  type Deployer,
  DeployerError,
  type DeploymentStatus,
  emptyStatus,
  JOB_BACKOFF_LIMIT,
  type JobPhase,
  type JobStatus,
  type TopicRef,
} from '../types.ts';
import {
  EXIT_WITH_PARENT_IMPORT,
  type PidRecord,
  reapOrphans,
  startTimeOf,
  writePidFile,
} from './processes.ts';

export interface LocalRunnerOptions {
  /** The agent's entry point, run as `node <agentEntry>` (e.g. apps/agent/src/main.ts). */
  agentEntry: string;
  /** Node binary; default: the one running the control plane. */
  nodePath?: string;
  /** URL agents report to; without it they run without reporting. */
  controlPlaneUrl?: string;
  /** Extra environment for every agent (never secrets of the control plane itself). */
  env?: Record<string, string>;
  /** Log lines kept per topic. Default 1000. */
  logLines?: number;
  /** Restart delays: initialMs × 2^n up to maxMs; a run longer than stableMs resets n. */
  backoff?: { initialMs?: number; maxMs?: number; stableMs?: number };
  /** How long a stop waits after SIGTERM before SIGKILL. Default 30 s (the agent drains for 25 s). */
  stopTimeoutMs?: number;
  /** Where the pids of running agents are kept, so a later runner can stop orphans. */
  pidFile?: string;
  /** Every line an agent prints, and the runner's own lines about it. */
  onLog?: (topic: string, line: AgentLogLine) => void;
}

interface Replica {
  name: string;
  child: ChildProcess | null;
  exited: Promise<void> | null;
  port: number | null;
  restarts: number;
  attempt: number;
  startedAt: number;
  restartTimer: NodeJS.Timeout | null;
  /** Set once the runner stops it on purpose: its exit is not a crash. */
  stopping: boolean;
  lastTermination?: AgentTermination;
  lastStderr: string;
}

interface Run {
  topic: TopicRef;
  spec: AgentDeploymentSpec & { agentToken: string };
  desired: number;
  replicas: Replica[];
  logs: AgentLogLine[];
  /** A one-off run (see runJob): done at exit 0, failed after JOB_BACKOFF_LIMIT failures. */
  job?: { name: string; env: Record<string, string>; phase: JobPhase };
}

/** Runs are keyed by topic id; a one-off run by topic id and its name. */
const runKey = (topic: TopicRef, job?: string) => (job ? `${topic.id}/${job}` : topic.id);

const tokenHash = (token: string) => createHash('sha256').update(token).digest('hex');

/**
 * Agents as supervised child processes: the embedded default behind `npm start`. Restarts a crashed
 * agent with exponential backoff, keeps each topic's recent log lines, stops every agent on close.
 */
export class LocalRunner implements Deployer {
  readonly target = 'local' as const;
  readonly #options: LocalRunnerOptions;
  readonly #runs = new Map<string, Run>();
  #closing: Promise<void> | null = null;

  constructor(options: LocalRunnerOptions) {
    this.#options = options;
  }

  /** Stops agents a previous, killed runner left behind (see `pidFile`). */
  reapOrphans(log: (line: string) => void = () => {}): Promise<number> {
    return this.#options.pidFile ? reapOrphans(this.#options.pidFile, log) : Promise.resolve(0);
  }

  async apply(spec: AgentDeploymentSpec): Promise<DeploymentStatus> {
    if (this.#closing) throw new DeployerError('unavailable', 'The local runner is shutting down.');
    const existing = this.#runs.get(spec.topic.id);
    const agentToken = spec.agentToken ?? existing?.spec.agentToken;
    if (!agentToken) {
      throw new DeployerError(
        'missingToken',
        `No local agent of "${spec.topic.name}" is running; a new token is needed.`,
      );
    }
    const full = { ...spec, agentToken };
    const desired = spec.paused ? 0 : spec.config.scaling.replicas;
    const drift: string[] = [];
    // No agent running is not drift here: local agents stop with the platform, and start on apply.
    if (existing) {
      const restart = this.#restartReason(existing.spec, full);
      if (!restart) {
        // The agents fetch the new version from the control plane and switch in place.
        existing.spec = full;
        existing.desired = desired;
        this.#scaleTo(existing, desired);
        return this.status(spec.topic);
      }
      drift.push(
        `the local agent ran config version ${existing.spec.configVersion}; restarted with ${spec.configVersion} (${restart})`,
      );
    }
    const logs = existing?.logs ?? [];
    // Every replica stops (draining) before any starts: never two file layouts at once.
    if (existing) await this.#stopRun(existing);
    const run: Run = { topic: spec.topic, spec: full, desired, replicas: [], logs };
    this.#runs.set(spec.topic.id, run);
    this.#scaleTo(run, desired);
    return { ...(await this.status(spec.topic)), drift };
  }

  /** Why the running agents must restart for `next`; null when they take it in place. */
  #restartReason(running: Run['spec'], next: Run['spec']): string | null {
    if (tokenHash(running.agentToken) !== tokenHash(next.agentToken)) return 'a new agent token';
    // Without a control plane the config is in the environment: only a restart delivers a new one.
    if (!this.#options.controlPlaneUrl)
      return JSON.stringify(running.config) === JSON.stringify(next.config) ? null : 'a new config';
    return restartReason(running.config, next.config);
  }

  async pause(topic: TopicRef): Promise<DeploymentStatus> {
    const run = this.#requireRun(topic);
    run.desired = 0;
    await this.#stopRun(run);
    this.#note(run, 'paused');
    return this.status(topic);
  }

  async resume(topic: TopicRef): Promise<DeploymentStatus> {
    const run = this.#requireRun(topic);
    run.desired = run.spec.config.scaling.replicas;
    this.#scaleTo(run, run.desired);
    return this.status(topic);
  }

  async remove(topic: TopicRef): Promise<void> {
    // The topic's one-off runs go with it.
    const keys = [...this.#runs.keys()].filter((k) => k === topic.id || k.startsWith(`${topic.id}/`));
    await Promise.all(keys.map((key) => this.#removeRun(key)));
  }

  async #removeRun(key: string): Promise<void> {
    const run = this.#runs.get(key);
    if (!run) return;
    run.desired = 0;
    await this.#stopRun(run);
    if (this.#runs.get(key) === run) this.#runs.delete(key);
  }

  async runJob(spec: AgentJobSpec): Promise<JobStatus> {
    if (this.#closing) throw new DeployerError('unavailable', 'The local runner is shutting down.');
    const key = runKey(spec.topic, spec.name);
    if (!this.#runs.has(key)) {
      const run: Run = {
        topic: spec.topic,
        spec: { ...spec, paused: false },
        desired: 1,
        replicas: [],
        logs: [],
        job: { name: spec.name, env: spec.env, phase: 'running' },
      };
      this.#runs.set(key, run);
      this.#scaleTo(run, 1);
    }
    return this.jobStatus(spec.topic, spec.name);
  }

  async jobStatus(topic: TopicRef, name: string): Promise<JobStatus> {
    const run = this.#runs.get(runKey(topic, name));
    if (!run?.job) return { phase: 'deleted', restarts: 0, message: 'No such run.' };
    const replica = run.replicas[0];
    const restarts = replica?.restarts ?? 0;
    const status: JobStatus = { phase: run.job.phase, restarts, message: '' };
    if (replica?.lastTermination) status.lastTermination = replica.lastTermination;
    status.message =
      run.job.phase === 'succeeded'
        ? 'Completed.'
        : run.job.phase === 'failed'
          ? `Failed after ${restarts + 1} attempts (${replica?.lastTermination?.reason ?? 'unknown'}).`
          : restarts > 0
            ? `Running (attempt ${restarts + 1}).`
            : 'Running.';
    return status;
  }

  removeJob(topic: TopicRef, name: string): Promise<void> {
    return this.#removeRun(runKey(topic, name));
  }

  async status(topic: TopicRef): Promise<DeploymentStatus> {
    const run = this.#runs.get(topic.id);
    if (!run) return emptyStatus('local', 'deleted', 'No local agent.');
    const replicas: AgentReplicaStatus[] = await Promise.all(
      run.replicas.map(async (r) => {
        const running = r.child !== null && r.child.exitCode === null && r.child.signalCode === null;
        const status: AgentReplicaStatus = {
          name: r.name,
          phase: running ? 'Running' : r.restartTimer ? 'Restarting' : 'Stopped',
          ready: running && r.port !== null ? await isReady(r.port) : false,
          restarts: r.restarts,
        };
        if (r.restartTimer) status.waitingReason = 'BackOff';
        if (r.lastTermination) status.lastTermination = r.lastTermination;
        return status;
      }),
    );
    const ready = replicas.filter((r) => r.ready).length;
    const crashing = replicas.find((r) => r.restarts >= 3 && !r.ready && r.lastTermination);
    let phase: DeploymentStatus['phase'];
    let message: string;
    if (run.desired === 0) {
      phase = 'paused';
      message = 'Paused (no local agent running).';
    } else if (crashing) {
      phase = 'failed';
      const t = crashing.lastTermination!;
      message = `${ready}/${run.desired} ready; ${crashing.name} restarted ${crashing.restarts} times (last: ${t.reason}${t.message ? `: ${t.message}` : ''}).`;
    } else if (ready >= run.desired) {
      phase = 'running';
      message = `${ready}/${run.desired} ready.`;
    } else {
      phase = 'applying';
      message = `${ready}/${run.desired} ready; starting.`;
    }
    return {
      target: 'local',
      phase,
      desiredReplicas: run.desired,
      readyReplicas: ready,
      configVersion: run.spec.configVersion,
      replicas,
      message,
      drift: [],
      observedAt: new Date().toISOString(),
    };
  }

  async logs(topic: TopicRef, options: { limit?: number } = {}): Promise<AgentLogLine[]> {
    const run = this.#runs.get(topic.id);
    return run ? run.logs.slice(-(options.limit ?? 200)) : [];
  }

  /** Pids of the running agents of a topic (tests, diagnostics). */
  pids(topic: TopicRef): number[] {
    const run = this.#runs.get(topic.id);
    return (run?.replicas ?? []).flatMap((r) =>
      r.child?.pid && r.child.exitCode === null ? [r.child.pid] : [],
    );
  }

  /** Stops every agent (SIGTERM, then SIGKILL after stopTimeoutMs). Idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      await Promise.all([...this.#runs.values()].map((run) => this.#stopRun(run)));
      this.#runs.clear();
      this.#savePids();
    })();
    return this.#closing;
  }

  /** Sends SIGTERM to every agent at once, synchronously: for a process that is about to exit. */
  signalAll(): void {
    for (const run of this.#runs.values()) {
      run.desired = 0;
      for (const r of run.replicas) {
        r.stopping = true;
        if (r.restartTimer) clearTimeout(r.restartTimer);
        r.restartTimer = null;
        if (r.child && r.child.exitCode === null && r.child.signalCode === null) r.child.kill('SIGTERM');
      }
    }
  }

  #requireRun(topic: TopicRef): Run {
    const run = this.#runs.get(topic.id);
    if (!run)
      throw new DeployerError('notFound', `No local agent of "${topic.name}": deploy the topic first.`);
    return run;
  }

  #scaleTo(run: Run, count: number): void {
    for (let i = run.replicas.length; i < count; i++) {
      const replica: Replica = {
        name: run.job ? `${run.topic.name}-${run.job.name}` : `${run.topic.name}-${i}`,
        child: null,
        exited: null,
        port: null,
        restarts: 0,
        attempt: 0,
        startedAt: 0,
        restartTimer: null,
        stopping: false,
        lastStderr: '',
      };
      run.replicas.push(replica);
    }
    for (const replica of run.replicas.slice(0, count))
      if (!replica.child && !replica.restartTimer) this.#start(run, replica);
    for (const replica of run.replicas.splice(count)) void this.#stop(replica);
  }

  async #stopRun(run: Run): Promise<void> {
    await Promise.all(run.replicas.map((r) => this.#stop(r)));
    run.replicas = [];
  }

  async #stop(replica: Replica): Promise<void> {
    replica.stopping = true;
    if (replica.restartTimer) clearTimeout(replica.restartTimer);
    replica.restartTimer = null;
    const { child, exited } = replica;
    if (!child || !exited) return;
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), this.#options.stopTimeoutMs ?? 30_000);
      await exited;
      clearTimeout(timer);
    } else {
      await exited;
    }
  }

  #note(run: Run, line: string, source = 'runner'): void {
    this.#push(run, { at: new Date().toISOString(), source, stream: 'runner', line });
  }

  #push(run: Run, line: AgentLogLine): void {
    const max = this.#options.logLines ?? 1000;
    run.logs.push(line);
    if (run.logs.length > max + max / 4) run.logs.splice(0, run.logs.length - max);
    this.#options.onLog?.(run.topic.name, line);
  }

  #start(run: Run, replica: Replica): void {
    const { spec } = run;
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      ...(process.env.HOME ? { HOME: process.env.HOME } : {}),
      ...(process.env.TZ ? { TZ: process.env.TZ } : {}),
      ...this.#options.env,
      HUBCAP_AGENT_ID: replica.name,
      HUBCAP_HTTP_PORT: '0',
      ...agentProcessEnv(spec.config.scaling.memory, spec.config.format.type),
      ...run.job?.env,
    };
    if (this.#options.controlPlaneUrl) {
      // Like every agent: the config (and any new version) comes from the control plane.
      env.HUBCAP_CONTROL_PLANE_URL = this.#options.controlPlaneUrl;
      env.HUBCAP_AGENT_TOKEN = spec.agentToken;
    } else {
      // Without a control plane: the config, connection strings included, to this child only.
      env.HUBCAP_CONFIG = JSON.stringify(spec.config);
    }
    const child = spawn(
      this.#options.nodePath ?? process.execPath,
      ['--import', EXIT_WITH_PARENT_IMPORT, this.#options.agentEntry],
      // stdin stays open: the agent notices when it closes (see EXIT_WITH_PARENT_IMPORT).
      { env: env as NodeJS.ProcessEnv, stdio: ['pipe', 'pipe', 'pipe'] },
    );
    replica.child = child;
    replica.port = null;
    replica.startedAt = Date.now();
    replica.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    child.stdin?.on('error', () => {});
    this.#note(run, `started (pid ${child.pid ?? '?'}, config version ${spec.configVersion})`, replica.name);
    child.once('error', (error) => this.#note(run, `could not start: ${error.message}`, replica.name));
    for (const [stream, name] of [
      [child.stdout, 'stdout'],
      [child.stderr, 'stderr'],
    ] as const) {
      let pending = '';
      stream?.setEncoding('utf8');
      stream?.on('data', (chunk: string) => {
        const lines = (pending + chunk).split('\n');
        pending = lines.pop() ?? '';
        for (const line of lines) {
          if (!line.trim()) continue;
          if (name === 'stderr') replica.lastStderr = line.slice(0, 300);
          if (replica.port === null) replica.port = listeningPort(line);
          this.#push(run, { at: new Date().toISOString(), source: replica.name, stream: name, line });
        }
      });
    }
    this.#savePids();
    child.once('exit', (code, signal) => {
      replica.child = null;
      const termination: AgentTermination = {
        reason: signal ? `signal ${signal}` : `exit code ${code}`,
        exitCode: code,
        finishedAt: new Date().toISOString(),
      };
      if (replica.lastStderr) termination.message = replica.lastStderr;
      replica.lastTermination = termination;
      this.#savePids();
      const wanted = !replica.stopping && this.#current(run) && !this.#closing;
      if (run.job && wanted && (code === 0 || replica.restarts >= JOB_BACKOFF_LIMIT)) {
        run.job.phase = code === 0 ? 'succeeded' : 'failed';
        run.desired = 0;
      }
      if (!wanted || run.desired === 0) {
        this.#note(run, `stopped (${termination.reason})`, replica.name);
        return;
      }
      const backoff = this.#options.backoff ?? {};
      const stable = Date.now() - replica.startedAt >= (backoff.stableMs ?? 60_000);
      replica.attempt = stable ? 0 : replica.attempt + 1;
      const delay = Math.min(
        backoff.maxMs ?? 60_000,
        (backoff.initialMs ?? 1000) * 2 ** Math.max(0, replica.attempt - 1),
      );
      const after = delay < 1000 ? `${delay} ms` : `${(delay / 1000).toFixed(1)} s`;
      this.#note(run, `exited (${termination.reason}); restarting in ${after}`, replica.name);
      replica.restartTimer = setTimeout(() => {
        replica.restartTimer = null;
        if (replica.stopping || !this.#current(run) || this.#closing || run.desired === 0) return;
        replica.restarts++;
        this.#start(run, replica);
      }, delay);
    });
  }

  /** Whether `run` is still the one the runner keeps under its key (not replaced or removed). */
  #current(run: Run): boolean {
    return this.#runs.get(runKey(run.topic, run.job?.name)) === run;
  }

  #savePids(): void {
    const file = this.#options.pidFile;
    if (!file) return;
    const records: PidRecord[] = [];
    for (const run of this.#runs.values()) {
      for (const r of run.replicas) {
        const pid = r.child?.pid;
        if (pid !== undefined && r.child?.exitCode === null)
          records.push({ name: r.name, pid, startTime: startTimeOf(pid) });
      }
    }
    writePidFile(file, records);
  }
}

/** The agent logs `{"port":N,…,"msg":"http server listening …"}` once its health server is up. */
function listeningPort(line: string): number | null {
  if (!line.includes('http server listening')) return null;
  try {
    const port = (JSON.parse(line) as { port?: unknown }).port;
    return typeof port === 'number' ? port : null;
  } catch {
    return null;
  }
}

async function isReady(port: number): Promise<boolean> {
  try {
    const response = await fetch(`http://127.0.0.1:${port}/readyz`, { signal: AbortSignal.timeout(1000) });
    await response.body?.cancel();
    return response.ok;
  } catch {
    return false;
  }
}
