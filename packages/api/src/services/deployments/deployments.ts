import type { Prisma, PrismaClient } from '@hubcap/db';
import {
  type AgentDeploymentSpec,
  type AgentLogLine,
  type Deployer,
  DeployerError,
  type DeploymentStatus,
  EXPORT_CONTROL_PLANE_URL,
  type KubernetesTarget,
  manifests,
  objectName,
  type TopicRef,
  toYaml,
} from '@hubcap/deployer';
import { REDACTED, redactSecrets, type TopicConfig } from '@hubcap/shared';
import type { SecretBox } from '../../auth/secret-box.ts';
import { AppError, type AppErrorCode } from '../../errors.ts';
import { type Actor, auditTopic, SYSTEM } from '../audit.ts';
import { loadAgentConfig } from '../topics/topic-configs.ts';
import { issueAgentToken } from '../topics/topics.ts';

/** What deployment actions need from the server: the API services plus the configured deployer. */
export interface DeploymentServices {
  prisma: PrismaClient;
  secrets: SecretBox;
  deployer?: Deployer | null;
  /** Namespace and image of exported manifests, whichever deployer runs. */
  manifestTarget?: KubernetesTarget;
}

/** Used for exports when the server configured nothing else. */
export const DEFAULT_MANIFEST_TARGET: KubernetesTarget = {
  namespace: 'hubcap-agents',
  image: 'hubcap-agent:latest',
  controlPlaneUrl: EXPORT_CONTROL_PLANE_URL,
};

const CODES: Record<DeployerError['kind'], AppErrorCode> = {
  // The cluster refusing the control plane is a setup problem, not the user's sign-in.
  unauthorized: 'PRECONDITION_FAILED',
  forbidden: 'PRECONDITION_FAILED',
  notFound: 'NOT_FOUND',
  conflict: 'CONFLICT',
  invalid: 'UNPROCESSABLE_CONTENT',
  unavailable: 'SERVICE_UNAVAILABLE',
  timeout: 'GATEWAY_TIMEOUT',
  missingToken: 'PRECONDITION_FAILED',
  failed: 'BAD_GATEWAY',
};

export function toAppError(error: unknown): AppError {
  if (error instanceof AppError) return error;
  if (error instanceof DeployerError) return new AppError(CODES[error.kind], error.message);
  return new AppError('BAD_GATEWAY', `The deployer failed: ${(error as Error)?.message ?? String(error)}`);
}

function requireDeployer(services: DeploymentServices): Deployer {
  if (!services.deployer) {
    throw new AppError(
      'PRECONDITION_FAILED',
      'No deployer is configured on this server: set HUBCAP_DEPLOYER to "local" or "kubernetes".',
    );
  }
  return services.deployer;
}

async function findTopic(prisma: PrismaClient, name: string) {
  const topic = await prisma.topic.findUnique({
    where: { slug: name },
    select: { id: true, slug: true, desiredState: true },
  });
  if (!topic) throw new AppError('NOT_FOUND', `no topic named "${name}"`);
  return topic;
}

/**
 * Refuses to start agents of a topic that shares its (namespace, event hub, consumer group) with
 * another (rows saved before that was refused): they would take each other's partitions.
 */
async function assertOwnSource(prisma: PrismaClient, topicId: string): Promise<void> {
  const [shared] = await prisma.$queryRaw<{ slug: string }[]>`
    SELECT o.slug FROM "Topic" t JOIN "Topic" o ON o."sourceKey" = t."sourceKey" AND o.id <> t.id
    WHERE t.id = ${topicId} AND t."sourceKey" <> '' ORDER BY o.slug LIMIT 1`;
  if (shared)
    throw new AppError(
      'CONFLICT',
      `topic "${shared.slug}" reads the same event hub with the same consumer group: give one of them its own consumer group before starting agents`,
    );
}

const refOf = (topic: { id: string; slug: string }): TopicRef => ({ id: topic.id, name: topic.slug });

async function record(
  prisma: PrismaClient,
  topicId: string,
  target: Deployer['target'],
  data: {
    phase: DeploymentStatus['phase'];
    configVersion: number;
    desiredReplicas: number;
    readyReplicas?: number;
    message: string;
    status?: unknown;
    applied?: boolean;
  },
): Promise<void> {
  const row = {
    target,
    phase: data.phase,
    configVersion: data.configVersion,
    desiredReplicas: data.desiredReplicas,
    readyReplicas: data.readyReplicas ?? 0,
    message: data.message.slice(0, 2000),
    ...(data.status === undefined ? {} : { status: data.status as Prisma.InputJsonValue }),
    ...(data.applied ? { lastAppliedAt: new Date() } : {}),
  };
  await prisma.deployment.upsert({ where: { topicId }, create: { topicId, ...row }, update: row });
}

/**
 * Records what the deployer refused: the deployment row turns failed with its message, and the audit
 * log says who asked for what. Returns the refusal's details.
 */
async function recordFailure(
  services: DeploymentServices,
  who: Actor,
  topic: { id: string; slug: string },
  action: string,
  error: unknown,
  row: { configVersion: number; desiredReplicas: number },
  extra: Record<string, unknown> = {},
): Promise<ReturnType<typeof failure>> {
  const details = failure(error);
  await record(services.prisma, topic.id, services.deployer!.target, {
    phase: 'failed',
    ...row,
    message: details.message,
    status: details,
  });
  await auditTopic(services.prisma, who, `deployment.${action}`, topic, {
    ...extra,
    ...details,
  });
  return details;
}

/**
 * Records what the deployer did: the deployment row takes its status, and the audit log says who
 * asked for what (`details` beyond the topic, the target and the outcome).
 */
async function recordSuccess(
  services: DeploymentServices,
  who: Actor,
  topic: { id: string; slug: string },
  action: string,
  status: DeploymentStatus,
  row: { configVersion: number; applied?: boolean },
  details: Record<string, unknown> = {},
): Promise<void> {
  const target = services.deployer!.target;
  await record(services.prisma, topic.id, target, { ...status, ...row, status });
  await auditTopic(services.prisma, who, `deployment.${action}`, topic, {
    target,
    ...details,
    outcome: 'ok',
    phase: status.phase,
  });
}

const failure = (error: unknown) =>
  error instanceof DeployerError
    ? {
        outcome: 'failed',
        error: error.kind,
        message: error.message,
        applied: error.applied,
        notApplied: error.notApplied,
      }
    : { outcome: 'failed', error: 'failed', message: (error as Error)?.message ?? String(error) };

/**
 * How long a replaced agent token stays valid at most. Pods of the rollout that replaces it keep
 * reporting with it until they stop; the first status poll that sees the rollout finished revokes it
 * sooner (`retireReplacedTokens`).
 */
export const TOKEN_GRACE_MS = 15 * 60_000;

/** The other tokens of the topic stop working once the rollout finished, or after the grace period. */
async function retireOtherTokens(prisma: PrismaClient, topicId: string, keep: string): Promise<void> {
  await prisma.agentInstance.updateMany({
    where: { topicId, revokedAt: null, id: { not: keep } },
    data: { revokedAt: new Date(Date.now() + TOKEN_GRACE_MS) },
  });
}

/** Revokes now the tokens still in their grace period: the pods that used them are gone. */
async function retireReplacedTokens(prisma: PrismaClient, topicId: string): Promise<void> {
  const now = new Date();
  await prisma.agentInstance.updateMany({
    where: { topicId, revokedAt: { gt: now } },
    data: { revokedAt: now },
  });
}

/** What the deployer applies; a null token keeps the one it already deployed. */
/** A topic's current config, to be applied running or paused. */
interface Rollout {
  topic: { id: string; slug: string };
  loaded: { version: number; config: TopicConfig };
  paused: boolean;
}

const specOf = ({ topic, loaded, paused }: Rollout, agentToken: string | null): AgentDeploymentSpec => ({
  topic: refOf(topic),
  config: loaded.config,
  configVersion: loaded.version,
  agentToken,
  paused,
});

/**
 * Applies the topic's current config with a fresh agent token. Older tokens of the topic keep working
 * until the rollout that replaces them finished (at most TOKEN_GRACE_MS); after a failure the new
 * token is revoked unless its Secret was applied.
 */
async function applyWithNewToken(
  services: DeploymentServices,
  deployer: Deployer,
  rollout: Rollout,
): Promise<DeploymentStatus> {
  const { topic, loaded } = rollout;
  const { agentId, token } = await issueAgentToken(
    services.prisma,
    topic.id,
    `${topic.slug}-${deployer.target}-v${loaded.version}`,
    { configAccess: true },
  );
  try {
    const status = await deployer.apply(specOf(rollout, token));
    await retireOtherTokens(services.prisma, topic.id, agentId);
    return status;
  } catch (error) {
    const secretApplied =
      error instanceof DeployerError && error.applied.includes(`Secret/${objectName(refOf(topic))}`);
    if (!secretApplied) {
      await services.prisma.agentInstance.update({ where: { id: agentId }, data: { revokedAt: new Date() } });
    }
    throw error;
  }
}

/**
 * Applies the topic's current config, keeping the agent token already deployed: an unchanged topic
 * changes nothing (no new token, no restarted pod). A new token when the deployer has none, or when
 * the topic has no valid token left (someone revoked it: the deployed one would be refused).
 */
async function applyConfig(
  services: DeploymentServices,
  deployer: Deployer,
  rollout: Rollout,
): Promise<DeploymentStatus> {
  const topicId = rollout.topic.id;
  const valid = await services.prisma.agentInstance.count({ where: { topicId, revokedAt: null } });
  if (valid === 0) return applyWithNewToken(services, deployer, rollout);
  try {
    return await deployer.apply(specOf(rollout, null));
  } catch (error) {
    if (!(error instanceof DeployerError && error.kind === 'missingToken')) throw error;
    return applyWithNewToken(services, deployer, rollout);
  }
}

/** Deploys (or redeploys) the topic as the database says, and sets it running. */
export async function deployTopic(
  services: DeploymentServices,
  name: string,
  who: Actor,
  action: 'deploy' | 'redeploy' = 'deploy',
): Promise<DeploymentStatus> {
  const deployer = requireDeployer(services);
  const topic = await findTopic(services.prisma, name);
  await assertOwnSource(services.prisma, topic.id);
  const loaded = await loadAgentConfig(services.prisma, services.secrets, topic.id);
  const desiredReplicas = loaded.config.scaling.replicas;
  await services.prisma.topic.update({ where: { id: topic.id }, data: { desiredState: 'running' } });
  await record(services.prisma, topic.id, deployer.target, {
    phase: 'applying',
    configVersion: loaded.version,
    desiredReplicas,
    message: `${action === 'deploy' ? 'Deploying' : 'Redeploying'} config version ${loaded.version}…`,
  });
  try {
    const status = await applyConfig(services, deployer, { topic, loaded, paused: false });
    await recordSuccess(
      services,
      who,
      topic,
      action,
      status,
      { configVersion: loaded.version, applied: true },
      { configVersion: loaded.version, drift: status.drift },
    );
    return status;
  } catch (error) {
    await recordFailure(
      services,
      who,
      topic,
      action,
      error,
      { configVersion: loaded.version, desiredReplicas },
      { target: deployer.target, configVersion: loaded.version },
    );
    throw toAppError(error);
  }
}

/** What happened to a saved version on a deployed topic, for the page that saved it. */
export interface SavedConfigRollout {
  /** applied: the deployer has it (agents switch in place, or the pods roll); failed: it does not. */
  outcome: 'applied' | 'failed' | 'notDeployed';
  message: string;
  phase: DeploymentStatus['phase'] | null;
}

/**
 * After a save: a deployed topic gets the new version at once (agents take it in place when they can;
 * otherwise the deployer rolls them, stopping every old replica first for a new file layout). A
 * failure is recorded on the deployment and returned, so the page says why; the save itself stands.
 */
export async function applySavedConfig(
  services: DeploymentServices,
  name: string,
  who: Actor,
): Promise<SavedConfigRollout> {
  const deployer = services.deployer;
  const topic = await findTopic(services.prisma, name);
  const row = await services.prisma.deployment.findUnique({ where: { topicId: topic.id } });
  if (!deployer || !row || row.phase === 'deleted' || row.target !== deployer.target) {
    return {
      outcome: 'notDeployed',
      phase: null,
      message: 'Not deployed: the new version runs when you deploy.',
    };
  }
  const loaded = await loadAgentConfig(services.prisma, services.secrets, topic.id);
  const paused = topic.desiredState === 'paused';
  try {
    const status = await applyConfig(services, deployer, { topic, loaded, paused });
    await recordSuccess(
      services,
      who,
      topic,
      'applyConfig',
      status,
      { configVersion: loaded.version, applied: true },
      { configVersion: loaded.version },
    );
    return {
      outcome: 'applied',
      phase: status.phase,
      message: paused
        ? `Version ${loaded.version} is applied; the paused agents run it when resumed.`
        : `Version ${loaded.version} is applied: the agents switch to it in place, or restart with it when they must (new file layout, limits or identity). Each replica's version is on the topic page.`,
    };
  } catch (error) {
    await recordFailure(
      services,
      who,
      topic,
      'applyConfig',
      error,
      { configVersion: loaded.version, desiredReplicas: paused ? 0 : loaded.config.scaling.replicas },
      { configVersion: loaded.version },
    );
    return {
      outcome: 'failed',
      phase: 'failed',
      message: `Version ${loaded.version} is saved but not applied: ${toAppError(error).message}`,
    };
  }
}

async function simpleAction(
  services: DeploymentServices,
  name: string,
  who: Actor,
  action: 'pause' | 'resume',
): Promise<DeploymentStatus> {
  const deployer = requireDeployer(services);
  const topic = await findTopic(services.prisma, name);
  const existing = await services.prisma.deployment.findUnique({ where: { topicId: topic.id } });
  if (!existing || existing.phase === 'deleted') {
    throw new AppError('NOT_FOUND', `"${topic.slug}" is not deployed: deploy it first.`);
  }
  if (action === 'resume') await assertOwnSource(services.prisma, topic.id);
  const ref = refOf(topic);
  await services.prisma.topic.update({
    where: { id: topic.id },
    data: { desiredState: action === 'pause' ? 'paused' : 'running' },
  });
  try {
    const status = action === 'pause' ? await deployer.pause(ref) : await deployer.resume(ref);
    await recordSuccess(services, who, topic, action, status, {
      configVersion: status.configVersion ?? existing.configVersion,
    });
    return status;
  } catch (error) {
    await recordFailure(services, who, topic, action, error, {
      configVersion: existing.configVersion,
      desiredReplicas: existing.desiredReplicas,
    });
    throw toAppError(error);
  }
}

export const pauseTopic = (services: DeploymentServices, name: string, who: Actor) =>
  simpleAction(services, name, who, 'pause');
export const resumeTopic = (services: DeploymentServices, name: string, who: Actor) =>
  simpleAction(services, name, who, 'resume');

/** Deletes every object (or process) of the topic and revokes its agent tokens. */
export async function removeTopicDeployment(
  services: DeploymentServices,
  name: string,
  who: Actor,
): Promise<void> {
  const deployer = requireDeployer(services);
  const topic = await findTopic(services.prisma, name);
  const existing = await services.prisma.deployment.findUnique({ where: { topicId: topic.id } });
  try {
    await deployer.remove(refOf(topic));
  } catch (error) {
    await recordFailure(services, who, topic, 'remove', error, {
      configVersion: existing?.configVersion ?? 0,
      desiredReplicas: existing?.desiredReplicas ?? 0,
    });
    throw toAppError(error);
  }
  const now = new Date();
  await services.prisma.agentInstance.updateMany({
    where: { topicId: topic.id, OR: [{ revokedAt: null }, { revokedAt: { gt: now } }] },
    data: { revokedAt: now },
  });
  await record(services.prisma, topic.id, deployer.target, {
    phase: 'deleted',
    configVersion: existing?.configVersion ?? 0,
    desiredReplicas: 0,
    message: 'Removed.',
    status: null,
  });
  await auditTopic(services.prisma, who, 'deployment.remove', topic, {
    target: deployer.target,
    outcome: 'ok',
  });
}

export interface TopicDeploymentView {
  topic: string;
  /** What the database last recorded (null: never deployed). */
  record: {
    target: string;
    phase: string;
    configVersion: number;
    desiredReplicas: number;
    readyReplicas: number;
    message: string;
    lastAppliedAt: Date | null;
  } | null;
  /** What runs now, read from the deployer; null when there is no deployer or it could not be read. */
  live: DeploymentStatus | null;
  liveError: string | null;
}

/** The recorded deployment plus the live status (pods or processes), refreshing the record. */
export async function deploymentStatus(
  services: DeploymentServices,
  name: string,
): Promise<TopicDeploymentView> {
  const topic = await findTopic(services.prisma, name);
  let row = await services.prisma.deployment.findUnique({ where: { topicId: topic.id } });
  let live: DeploymentStatus | null = null;
  let liveError: string | null = null;
  const deployer = services.deployer;
  if (deployer && row && row.target === deployer.target) {
    try {
      live = await deployer.status(refOf(topic));
      if (live.phase === 'running') await retireReplacedTokens(services.prisma, topic.id);
      if (!(live.phase === 'deleted' && row.phase === 'deleted')) {
        row = await services.prisma.deployment.update({
          where: { topicId: topic.id },
          data: {
            phase: live.phase,
            readyReplicas: live.readyReplicas,
            desiredReplicas: live.desiredReplicas,
            message: live.message,
            status: JSON.parse(JSON.stringify(live)) as Prisma.InputJsonValue,
          },
        });
      }
    } catch (error) {
      liveError = toAppError(error).message;
    }
  } else if (!deployer) {
    liveError = 'No deployer is configured on this server.';
  }
  return {
    topic: topic.slug,
    record: row && {
      target: row.target,
      phase: row.phase,
      configVersion: row.configVersion,
      desiredReplicas: row.desiredReplicas,
      readyReplicas: row.readyReplicas,
      message: row.message,
      lastAppliedAt: row.lastAppliedAt,
    },
    live,
    liveError,
  };
}

/**
 * Follows every deployment in this server's deployer without anyone watching its page: the recorded
 * phase, ready replicas and message are read again from the deployer, so a rollout's "0/1 ready;
 * starting." gives way to what runs once it ends, and a replica that stops being ready shows.
 */
export async function refreshDeployments(
  services: DeploymentServices,
  options: { settledEveryMs?: number; now?: Date } = {},
): Promise<number> {
  const deployer = services.deployer;
  if (!deployer) return 0;
  // Rollouts in flight on every call; settled deployments once a minute, to spare the deployer's API.
  const settledBefore = new Date((options.now ?? new Date()).getTime() - (options.settledEveryMs ?? 60_000));
  const rows = await services.prisma.deployment.findMany({
    where: {
      target: deployer.target,
      OR: [
        { phase: { in: ['pending', 'applying'] } },
        { phase: { in: ['running', 'failed'] }, updatedAt: { lt: settledBefore } },
      ],
    },
    select: { topic: { select: { slug: true } } },
  });
  let refreshed = 0;
  for (const row of rows) {
    // A topic deleted meanwhile has nothing left to refresh.
    const view = await deploymentStatus(services, row.topic.slug).catch(() => null);
    if (view?.live) refreshed++;
  }
  return refreshed;
}

export async function deploymentLogs(
  services: DeploymentServices,
  name: string,
  limit: number,
): Promise<AgentLogLine[]> {
  const deployer = requireDeployer(services);
  const topic = await findTopic(services.prisma, name);
  if (!deployer.logs) return [];
  try {
    return await deployer.logs(refOf(topic), { limit });
  } catch (error) {
    throw toAppError(error);
  }
}

/**
 * The topic's objects as YAML for GitOps, with every secret REDACTED: the connection strings are
 * replaced before the manifests are even built, and the agent token is never loaded.
 */
export async function exportManifests(
  services: DeploymentServices,
  name: string,
): Promise<{ filename: string; yaml: string }> {
  const topic = await findTopic(services.prisma, name);
  const { version, config } = await loadAgentConfig(services.prisma, services.secrets, topic.id);
  const objects = manifests(
    {
      topic: refOf(topic),
      config: redactSecrets(config),
      configVersion: version,
      agentToken: REDACTED,
      paused: topic.desiredState === 'paused',
    },
    services.manifestTarget ?? DEFAULT_MANIFEST_TARGET,
  );
  // A read like viewing the topic page, and a GET: no audit entry, so that a link or an image on
  // another site cannot write to the audit log in a viewer's name.
  return {
    filename: `hubcap-agent-${topic.slug}-v${version}.yaml`,
    yaml: toYaml(objects, { redactSecrets: true }),
  };
}

export interface ReconcileResult {
  topic: string;
  outcome: 'applied' | 'skipped' | 'failed';
  phase: DeploymentStatus['phase'] | null;
  drift: string[];
  message: string;
}

/** How the re-apply after a server start is going; shown on the fleet page. */
export interface ReconcileProgress {
  state: 'idle' | 'running' | 'done';
  total: number;
  done: number;
  failed: number;
  drifted: number;
  /** The topic being applied now. */
  current: string | null;
  startedAt: string | null;
  finishedAt: string | null;
}

// Per server process, on globalThis: Next loads this module in more than one bundle of one process.
const progressStore = globalThis as unknown as { hubcapReconcile?: ReconcileProgress };

export function reconcileProgress(): ReconcileProgress {
  return (
    progressStore.hubcapReconcile ?? {
      state: 'idle',
      total: 0,
      done: 0,
      failed: 0,
      drifted: 0,
      current: null,
      startedAt: null,
      finishedAt: null,
    }
  );
}

/**
 * Starts `reconcileDeployments` in the background and returns at once: the server answers (and its
 * probes pass) while an unreachable API server makes each topic wait for its timeout. Progress is in
 * `reconcileProgress()`.
 */
export function startReconcile(
  services: DeploymentServices,
  log: (line: string) => void = () => {},
): Promise<ReconcileResult[]> {
  const progress: ReconcileProgress = {
    ...reconcileProgress(),
    state: 'running',
    total: 0,
    done: 0,
    failed: 0,
    drifted: 0,
    startedAt: new Date().toISOString(),
    finishedAt: null,
  };
  progressStore.hubcapReconcile = progress;
  const finish = () => {
    progress.state = 'done';
    progress.current = null;
    progress.finishedAt = new Date().toISOString();
  };
  return reconcileDeployments(services, log, progress).then(
    (results) => {
      finish();
      return results;
    },
    (error: unknown) => {
      finish();
      log(`reconcile failed: ${(error as Error).message}`);
      return [];
    },
  );
}

/**
 * Re-applies every deployment the database records (not deleted) with the deployer this server runs,
 * keeping deployed agent tokens where the deployer still has them. Reports drift per topic; records
 * it in the audit log. Meant to run once at server start.
 */
export async function reconcileDeployments(
  services: DeploymentServices,
  log: (line: string) => void = () => {},
  progress?: ReconcileProgress,
): Promise<ReconcileResult[]> {
  const deployer = services.deployer;
  if (!deployer) return [];
  const who = SYSTEM;
  const rows = await services.prisma.deployment.findMany({
    where: { phase: { not: 'deleted' } },
    select: {
      target: true,
      configVersion: true,
      topic: { select: { id: true, slug: true, desiredState: true } },
    },
    orderBy: { createdAt: 'asc' },
  });
  const results: ReconcileResult[] = [];
  if (progress) progress.total = rows.length;
  for (const row of rows) {
    const topic = row.topic;
    if (progress) Object.assign(progress, tally(results), { current: topic.slug });
    if (row.target !== deployer.target) {
      const message = `deployed with the ${row.target} deployer; this server runs the ${deployer.target} one: left alone`;
      log(`reconcile ${topic.slug}: ${message}`);
      results.push({ topic: topic.slug, outcome: 'skipped', phase: null, drift: [], message });
      continue;
    }
    let loaded: { version: number; config: TopicConfig };
    try {
      loaded = await loadAgentConfig(services.prisma, services.secrets, topic.id);
    } catch (error) {
      results.push({
        topic: topic.slug,
        outcome: 'failed',
        phase: null,
        drift: [],
        message: (error as Error).message,
      });
      continue;
    }
    const paused = topic.desiredState === 'paused';
    try {
      const status = await applyConfig(services, deployer, { topic, loaded, paused });
      await record(services.prisma, topic.id, deployer.target, {
        ...status,
        configVersion: loaded.version,
        status,
        applied: true,
      });
      if (status.drift.length) {
        await auditTopic(services.prisma, who, 'deployment.reconcile', topic, {
          target: deployer.target,
          outcome: 'ok',
          drift: status.drift,
        });
      }
      log(
        `reconcile ${topic.slug}: ${status.phase}${status.drift.length ? `; drift: ${status.drift.join('; ')}` : ''}`,
      );
      results.push({
        topic: topic.slug,
        outcome: 'applied',
        phase: status.phase,
        drift: status.drift,
        message: status.message,
      });
    } catch (error) {
      const details = await recordFailure(services, who, topic, 'reconcile', error, {
        configVersion: loaded.version,
        desiredReplicas: paused ? 0 : loaded.config.scaling.replicas,
      });
      log(`reconcile ${topic.slug}: failed: ${details.message}`);
      results.push({
        topic: topic.slug,
        outcome: 'failed',
        phase: 'failed',
        drift: [],
        message: details.message,
      });
    }
  }
  if (progress) Object.assign(progress, tally(results));
  return results;
}

const tally = (results: ReconcileResult[]) => ({
  done: results.length,
  failed: results.filter((r) => r.outcome === 'failed').length,
  drifted: results.filter((r) => r.drift.length > 0).length,
});
