import type { TopicConfig } from '@hubcap/shared';

/** Which topic an operation is about. Objects are named after `name`, selected by `id`. */
export interface TopicRef {
  /** Topic id (database cuid); every object carries it as a label. */
  id: string;
  /** Topic name (slug): lower-case letters, digits and dashes, at most 40 characters. */
  name: string;
}

/** Everything needed to run one topic's agent. Holds secrets: never log it, never send it to a browser. */
export interface AgentDeploymentSpec {
  topic: TopicRef;
  /** The full TopicConfig, connection strings included; they only go to a Secret or a child's environment. */
  config: TopicConfig;
  configVersion: number;
  /**
   * Bearer token the agent reports with. `null` keeps the token already deployed (reconcile after a
   * restart of the control plane, which only stores token hashes); a deployer that has none throws
   * a `DeployerError` of kind `missingToken`.
   */
  agentToken: string | null;
  /** Deploy with zero replicas (the topic's desired state is paused). */
  paused?: boolean;
}

export type DeploymentTarget = 'kubernetes' | 'local';

/** Matches the database's DeploymentPhase. */
export type DeploymentPhase = 'pending' | 'applying' | 'running' | 'paused' | 'failed' | 'deleted';

export interface AgentTermination {
  /** Kubernetes reason (OOMKilled, Error, Completed…) or, locally, "exit code N" / "signal SIGKILL". */
  reason: string;
  exitCode: number | null;
  message?: string;
  finishedAt?: string;
}

/** One running copy of the agent: a pod, or a local child process. */
export interface AgentReplicaStatus {
  name: string;
  /** Pod phase (Pending, Running, Succeeded, Failed, Unknown) or, locally, Running / Restarting / Stopped. */
  phase: string;
  ready: boolean;
  restarts: number;
  /** Why the container is waiting, e.g. CrashLoopBackOff, ImagePullBackOff. */
  waitingReason?: string;
  /** The cluster's words for it (image pull error, why no node fits). */
  waitingMessage?: string;
  lastTermination?: AgentTermination;
}

export interface DeploymentStatus {
  target: DeploymentTarget;
  phase: DeploymentPhase;
  desiredReplicas: number;
  readyReplicas: number;
  /** Config version the running objects were applied with, when known. */
  configVersion: number | null;
  replicas: AgentReplicaStatus[];
  /** One line for the UI. */
  message: string;
  /** Differences found between what should run and what ran, when `apply` re-applied (reconcile). */
  drift: string[];
  observedAt: string;
}

export interface AgentLogLine {
  at: string;
  /** Pod or replica name. */
  source: string;
  stream: 'stdout' | 'stderr' | 'runner';
  line: string;
}

/** A one-off run of the topic's agent (a replay): runs until it exits 0, restarted after a failure. */
export interface AgentJobSpec {
  topic: TopicRef;
  /** Unique per topic, lower-case letters, digits and dashes (at most 40): e.g. "replay-<id>". */
  name: string;
  config: TopicConfig;
  configVersion: number;
  /** Bearer token of this run alone (it fetches its own bounded config with it). */
  agentToken: string;
  /** What tells the agent which run it is (e.g. HUBCAP_REPLAY_ID); never a secret. */
  env: Record<string, string>;
}

export type JobPhase = 'running' | 'succeeded' | 'failed' | 'deleted';

/** Restarts after a failure before a one-off run counts as failed (Kubernetes' default backoffLimit). */
export const JOB_BACKOFF_LIMIT = 6;

export interface JobStatus {
  phase: JobPhase;
  /** Failed attempts so far. */
  restarts: number;
  /** One line for the UI. */
  message: string;
  lastTermination?: AgentTermination;
}

/** The one interface the control plane deploys agents through. */
export interface Deployer {
  readonly target: DeploymentTarget;
  /** Creates or updates every object of the topic; idempotent. */
  apply(spec: AgentDeploymentSpec): Promise<DeploymentStatus>;
  /** Scales to zero; the objects stay. */
  pause(topic: TopicRef): Promise<DeploymentStatus>;
  /** Scales back to the replicas last applied. */
  resume(topic: TopicRef): Promise<DeploymentStatus>;
  /** Deletes every object (or process) of the topic. */
  remove(topic: TopicRef): Promise<void>;
  status(topic: TopicRef): Promise<DeploymentStatus>;
  /** Starts a one-off run; starting one that exists changes nothing. */
  runJob(spec: AgentJobSpec): Promise<JobStatus>;
  jobStatus(topic: TopicRef, name: string): Promise<JobStatus>;
  /** Stops (SIGTERM, then its grace period) and deletes a one-off run; one already gone is fine. */
  removeJob(topic: TopicRef, name: string): Promise<void>;
  /** Recent log lines, oldest first. */
  logs?(topic: TopicRef, options?: { limit?: number }): Promise<AgentLogLine[]>;
  /** Releases connections and stops whatever the deployer runs itself (local processes). Idempotent. */
  close?(): Promise<void>;
}

export type DeployerErrorKind =
  | 'unauthorized'
  | 'forbidden'
  | 'notFound'
  | 'conflict'
  | 'invalid'
  | 'unavailable'
  | 'timeout'
  | 'missingToken'
  | 'failed';

/**
 * What went wrong, said so a person can act on it. `message` never holds secrets. `applied` lists the
 * objects that were applied before the failure, so nothing is left half-applied without saying so.
 */
export class DeployerError extends Error {
  readonly kind: DeployerErrorKind;
  readonly status: number | undefined;
  readonly applied: string[];
  readonly notApplied: string[];

  constructor(
    kind: DeployerErrorKind,
    message: string,
    options: { status?: number; applied?: string[]; notApplied?: string[]; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'DeployerError';
    this.kind = kind;
    this.status = options.status;
    this.applied = options.applied ?? [];
    this.notApplied = options.notApplied ?? [];
  }
}

export function emptyStatus(
  target: DeploymentTarget,
  phase: DeploymentPhase,
  message: string,
): DeploymentStatus {
  return {
    target,
    phase,
    desiredReplicas: 0,
    readyReplicas: 0,
    configVersion: null,
    replicas: [],
    message,
    drift: [],
    observedAt: new Date().toISOString(),
  };
}
