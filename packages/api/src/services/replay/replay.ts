import type { Prisma, PrismaClient } from '@hubcap/db';
import type { JobStatus } from '@hubcap/deployer';
import { BlobStore, FolderStore, type LakeStore, verify } from '@hubcap/lake';
import {
  type AgentReplayResponse,
  type ReplayPartition,
  type ReplayProgress,
  type ReplayRequest,
  type ReplayTarget,
  type ReplayVerify,
  type ReplayView,
  replayedEvents,
  type TopicConfig,
  UNFINISHED_REPLAY_STATES,
} from '@hubcap/shared';
import type { AgentPrincipal, SecurityPolicy } from '../../context.ts';
import { AppError, type FieldErrors } from '../../errors.ts';
import { type Actor, audit } from '../audit.ts';
import { type DeploymentServices, toAppError } from '../deployments/deployments.ts';
import { readStoredCheckpoints } from '../telemetry/lag-probe.ts';
import {
  consumerFor,
  describe,
  type PartitionInfo,
  readPartitions,
  receive,
  storageService,
  withTimeout,
} from '../topics/connection.ts';
import { assertPolicy } from '../topics/policy.ts';
import { loadAgentConfig } from '../topics/topic-configs.ts';
import { issueAgentToken } from '../topics/topics.ts';

export interface ReplayServices extends DeploymentServices {
  policy: SecurityPolicy;
}

/** The deployer's name of a replay's run (and, on Kubernetes, of its Job and Secret suffix). */
export const replayJob = (id: string) => `replay-${id}`;
/** Clocks differ a little: an end this far past the server's now is still "now". */
const CLOCK_SKEW_MS = 60_000;

const FINISHED = new Set(['succeeded', 'failed', 'cancelled']);

async function findTopic(prisma: PrismaClient, name: string) {
  const topic = await prisma.topic.findUnique({ where: { slug: name }, select: { id: true, slug: true } });
  if (!topic) throw new AppError('NOT_FOUND', `no topic named "${name}"`);
  return topic;
}

interface Earliest {
  partitionId: string;
  sequenceNumber: number;
  enqueuedAt: string;
}

/** Per partition the oldest event the hub still holds: its sequence number and enqueued time. */
async function readEarliest(
  config: TopicConfig,
): Promise<{ partitions: PartitionInfo[]; earliest: Earliest[] }> {
  const client = consumerFor(config);
  try {
    const partitions = await withTimeout('the event hub', readPartitions(client));
    const earliest = await Promise.all(
      partitions
        .filter((p) => !p.isEmpty)
        .map(async (p) => {
          const [first] = await withTimeout(
            'the event hub',
            receive(client, p.partitionId, p.beginningSequenceNumber, 1, 5),
          );
          return {
            partitionId: p.partitionId,
            sequenceNumber: first?.sequenceNumber ?? p.beginningSequenceNumber,
            enqueuedAt: (first?.enqueuedTimeUtc ?? new Date(p.lastEnqueuedAt!)).toISOString(),
          };
        }),
    );
    return { partitions, earliest };
  } catch (error) {
    throw new AppError('BAD_GATEWAY', `cannot read the event hub's partitions: ${describe(error)}`);
  } finally {
    await client.close().catch(() => {});
  }
}

const earliestLine = (e: Earliest[]) =>
  e.map((p) => `partition ${p.partitionId}: ${p.enqueuedAt} (sequence ${p.sequenceNumber})`).join('; ');

/**
 * What the hub can no longer give: a start before the oldest event a partition holds, where that
 * partition has already dropped events (a partition that never dropped any holds all it ever had);
 * and sequence numbers of partitions the hub lacks, or that it no longer or not yet holds.
 */
function retentionProblems(
  input: ReplayRequest,
  partitions: PartitionInfo[],
  earliest: Earliest[],
): FieldErrors {
  const errors: FieldErrors = {};
  const known = new Map(partitions.map((p) => [p.partitionId, p]));
  const from = Date.parse(input.from);
  const expired = earliest.filter((e) => {
    const p = known.get(e.partitionId)!;
    return (
      input.startSequences?.[e.partitionId] === undefined &&
      (!input.endSequences || input.endSequences[e.partitionId] !== undefined) &&
      p.beginningSequenceNumber > 0 &&
      from < Date.parse(e.enqueuedAt)
    );
  });
  if (expired.length > 0)
    errors.from = `events before ${expired.map((e) => e.enqueuedAt).sort()[expired.length - 1]} are no longer in the hub (retention); earliest available: ${earliestLine(earliest)}`;
  for (const field of ['startSequences', 'endSequences'] as const)
    for (const [partitionId, sequence] of Object.entries(input[field] ?? {})) {
      const problem = sequenceProblem(known, earliest, partitionId, sequence);
      if (problem) errors[`${field}.${partitionId}`] = problem;
    }
  return errors;
}

/** Why the hub cannot give one partition's event at `sequence`, or null when it holds it. */
function sequenceProblem(
  known: Map<string, PartitionInfo>,
  earliest: Earliest[],
  partitionId: string,
  sequence: number,
): string | null {
  const p = known.get(partitionId);
  if (!p) return `the hub has no partition "${partitionId}" (it has ${[...known.keys()].join(', ')})`;
  if (sequence < p.beginningSequenceNumber) {
    const e = earliest.find((x) => x.partitionId === partitionId);
    return `sequence ${sequence} is no longer in the hub (retention); earliest available: ${e ? earliestLine([e]) : p.beginningSequenceNumber}`;
  }
  if (p.isEmpty || sequence > p.lastEnqueuedSequenceNumber)
    return `the partition holds no event at sequence ${sequence} yet (last: ${p.isEmpty ? 'none' : p.lastEnqueuedSequenceNumber})`;
  return null;
}

/** The window must lie in the past: a replay lands events already in the hub. */
function clockProblems(input: ReplayRequest, now: number): FieldErrors {
  const errors: FieldErrors = {};
  if (Date.parse(input.from) > now) errors.from = 'must not be in the future';
  if (Date.parse(input.to) > now + CLOCK_SKEW_MS) errors.to = 'must not be in the future (at most now)';
  return errors;
}

/**
 * Event Hubs refuses a reader without an owner level in a consumer group whose readers hold one, and
 * the topic's running agents do: while they run, a replay must read with another group.
 */
async function assertOwnReader(
  prisma: PrismaClient,
  topicId: string,
  config: TopicConfig,
  input: ReplayRequest,
): Promise<void> {
  const group = input.consumerGroup ?? config.source.consumerGroup;
  if (group.toLowerCase() !== config.source.consumerGroup.toLowerCase()) return;
  const topic = await prisma.topic.findUniqueOrThrow({
    where: { id: topicId },
    select: { desiredState: true, deployment: { select: { phase: true } } },
  });
  const phase = topic.deployment?.phase;
  if (topic.desiredState === 'running' && phase && phase !== 'deleted' && phase !== 'paused')
    throw AppError.invalid({
      consumerGroup: `the topic's agents read consumer group "${group}" while they run; name another consumer group of the hub for the replay, or pause the topic`,
    });
}

function requireJobs(services: DeploymentServices) {
  if (!services.deployer)
    throw new AppError(
      'PRECONDITION_FAILED',
      'No deployer is configured on this server: set HUBCAP_DEPLOYER to "local" or "kubernetes".',
    );
  return services.deployer;
}

/** Starts a replay: checks the window against the clock and the hub's retention, then runs it. */
export async function startReplay(
  services: ReplayServices,
  input: ReplayRequest,
  who: Actor,
  now = Date.now(),
): Promise<ReplayView> {
  const topic = await findTopic(services.prisma, input.topic);
  const clock = clockProblems(input, now);
  if (Object.keys(clock).length > 0) throw AppError.invalid(clock);
  const deployer = requireJobs(services);
  const loaded = await loadAgentConfig(services.prisma, services.secrets, topic.id);
  // The server reads the hub on the user's behalf: only endpoints the operator allows.
  assertPolicy(loaded.config, services.policy);
  await assertOwnReader(services.prisma, topic.id, loaded.config, input);
  // Read with the replay's group: the topic's may hold the agents' owner-level readers.
  const group = input.consumerGroup ?? loaded.config.source.consumerGroup;
  const { partitions, earliest } = await readEarliest({
    ...loaded.config,
    source: { ...loaded.config.source, consumerGroup: group },
  });
  const retention = retentionProblems(input, partitions, earliest);
  if (Object.keys(retention).length > 0) throw AppError.invalid(retention);

  const replay = await services.prisma.replay.create({
    data: {
      topicId: topic.id,
      from: new Date(input.from),
      to: new Date(input.to),
      target: input.target as Prisma.InputJsonValue,
      ...(input.startSequences ? { startSequences: input.startSequences } : {}),
      ...(input.endSequences ? { endSequences: input.endSequences } : {}),
      consumerGroup: input.consumerGroup ?? null,
      createdById: who.userId ?? null,
    },
  });
  const { agentId, token } = await issueAgentToken(services.prisma, topic.id, replayJob(replay.id), {
    configAccess: true,
  });
  const details = {
    replay: replay.id,
    from: input.from,
    to: input.to,
    target: input.target,
    ...(input.startSequences ? { startSequences: input.startSequences } : {}),
    ...(input.endSequences ? { endSequences: input.endSequences } : {}),
  };
  try {
    await deployer.runJob({
      topic: { id: topic.id, name: topic.slug },
      name: replayJob(replay.id),
      config: loaded.config,
      configVersion: loaded.version,
      agentToken: token,
      env: { HUBCAP_REPLAY_ID: replay.id },
    });
  } catch (error) {
    const failure = toAppError(error);
    await services.prisma.$transaction([
      services.prisma.agentInstance.update({ where: { id: agentId }, data: { revokedAt: new Date() } }),
      services.prisma.replay.update({
        where: { id: replay.id },
        data: { state: 'failed', message: failure.message, finishedAt: new Date() },
      }),
    ]);
    await audit(
      services.prisma,
      who,
      'replay.start',
      { type: 'topic', id: topic.id },
      { ...details, error: failure.message },
    );
    throw failure;
  }
  await audit(services.prisma, who, 'replay.start', { type: 'topic', id: topic.id }, details);
  return view(await loadReplay(services.prisma, replay.id), now);
}

const SELECT = {
  id: true,
  topicId: true,
  state: true,
  from: true,
  to: true,
  target: true,
  startSequences: true,
  endSequences: true,
  consumerGroup: true,
  partitions: true,
  message: true,
  verify: true,
  createdAt: true,
  updatedAt: true,
  finishedAt: true,
  createdBy: { select: { email: true } },
  topic: { select: { slug: true } },
} satisfies Prisma.ReplaySelect;
type Row = Prisma.ReplayGetPayload<{ select: typeof SELECT }>;

async function loadReplay(prisma: PrismaClient, id: string): Promise<Row> {
  const row = await prisma.replay.findUnique({ where: { id }, select: SELECT });
  if (!row) throw new AppError('NOT_FOUND', `no replay "${id}"`);
  return row;
}

/** Progress from the run's last report: events landed, partitions done, time left at the rate so far. */
function view(row: Row, now: number): ReplayView {
  const partitions = row.partitions as ReplayPartition[];
  const events = partitions.reduce((n, p) => n + replayedEvents(p), 0);
  const totalEvents = partitions.reduce(
    (n, p) =>
      n + (p.firstSequence === null || p.lastSequence === null ? 0 : p.lastSequence - p.firstSequence + 1),
    0,
  );
  const elapsed = (now - row.createdAt.getTime()) / 1000;
  const running = row.state === 'running' || row.state === 'starting';
  return {
    id: row.id,
    state: row.state,
    from: row.from.toISOString(),
    to: row.to.toISOString(),
    target: row.target as ReplayTarget,
    startSequences: (row.startSequences as Record<string, number> | null) ?? null,
    endSequences: (row.endSequences as Record<string, number> | null) ?? null,
    partitions,
    events,
    totalEvents,
    partitionsDone: partitions.filter((p) => p.done).length,
    secondsLeft:
      running && events > 0 && elapsed > 0 ? Math.round(((totalEvents - events) * elapsed) / events) : null,
    message: row.message,
    verify: (row.verify as ReplayVerify | null) ?? null,
    createdBy: row.createdBy?.email ?? null,
    createdAt: row.createdAt.toISOString(),
    finishedAt: row.finishedAt?.toISOString() ?? null,
  };
}

/** A run the deployer gave up on (its restarts are spent) or lost is failed, not running forever. */
async function settleWithDeployer(services: DeploymentServices, row: Row): Promise<Row> {
  if (FINISHED.has(row.state) || !services.deployer) return row;
  let status: JobStatus;
  try {
    status = await services.deployer.jobStatus({ id: row.topicId, name: row.topic.slug }, replayJob(row.id));
  } catch {
    return row; // the deployer is unreachable: say nothing new
  }
  if (status.phase === 'running') return row;
  // A run that exited 0 sent its last report first: still running here means that report was lost.
  const why = {
    failed: status.message,
    deleted: 'The run is gone (its Job or process was removed).',
    succeeded: 'The run ended but its last report never arrived.',
  }[status.phase];
  await finish(services.prisma, row.id, row.topicId, 'failed', why);
  return loadReplay(services.prisma, row.id);
}

export async function listReplays(
  services: DeploymentServices,
  name: string,
  now = Date.now(),
): Promise<ReplayView[]> {
  const topic = await findTopic(services.prisma, name);
  const rows = await services.prisma.replay.findMany({
    where: { topicId: topic.id },
    select: SELECT,
    orderBy: { createdAt: 'desc' },
    take: 50,
  });
  return Promise.all(rows.map(async (row) => view(await settleWithDeployer(services, row), now)));
}

/** Ends a replay: its state, and its token stops working (the run is over). */
async function finish(
  prisma: PrismaClient,
  id: string,
  topicId: string,
  state: 'succeeded' | 'failed' | 'cancelled',
  message: string,
): Promise<boolean> {
  const { count } = await prisma.replay.updateMany({
    where: { id, state: { in: UNFINISHED_REPLAY_STATES } },
    data: { state, message, finishedAt: new Date() },
  });
  await prisma.agentInstance.updateMany({
    where: { topicId, name: replayJob(id), revokedAt: null },
    data: { revokedAt: new Date() },
  });
  return count > 0;
}

/** Stops the run (deletes the Job or stops the process) and marks the replay cancelled. */
export async function cancelReplay(
  services: DeploymentServices,
  id: string,
  who: Actor,
): Promise<ReplayView> {
  const row = await loadReplay(services.prisma, id);
  if (FINISHED.has(row.state)) throw new AppError('CONFLICT', `the replay is already ${row.state}`);
  try {
    await requireJobs(services).removeJob({ id: row.topicId, name: row.topic.slug }, replayJob(id));
  } catch (error) {
    throw toAppError(error);
  }
  await finish(services.prisma, id, row.topicId, 'cancelled', 'Cancelled.');
  await audit(services.prisma, who, 'replay.cancel', { type: 'topic', id: row.topicId }, { replay: id });
  return view(await loadReplay(services.prisma, id), Date.now());
}

/** A replay run of the agent's own topic, not finished; anything else is none of its business. */
async function runOf(prisma: PrismaClient, agent: AgentPrincipal, id: string): Promise<Row> {
  const row = await prisma.replay.findUnique({ where: { id }, select: SELECT });
  if (!row || row.topicId !== agent.topicId)
    throw new AppError('NOT_FOUND', `no replay "${id}" of this topic`);
  return row;
}

/** What the run needs: its window and the topic's config (secrets opened: deployer tokens only). */
export async function agentReplay(
  services: DeploymentServices,
  agent: AgentPrincipal,
  id: string,
): Promise<AgentReplayResponse> {
  if (!agent.configAccess)
    throw new AppError('FORBIDDEN', 'only runs the control plane starts receive a replay with its config');
  const row = await runOf(services.prisma, agent, id);
  if (FINISHED.has(row.state)) throw new AppError('PRECONDITION_FAILED', `the replay is ${row.state}`);
  const { config } = await loadAgentConfig(services.prisma, services.secrets, row.topicId);
  const target = row.target as ReplayTarget;
  const landedUpTo =
    target.kind === 'ownLayout' ? await deployedCheckpoints(services, row.topicId, config) : null;
  return {
    replay: {
      id: row.id,
      from: row.from.toISOString(),
      to: row.to.toISOString(),
      ...(row.startSequences ? { startSequences: row.startSequences as Record<string, number> } : {}),
      ...(row.endSequences ? { endSequences: row.endSequences as Record<string, number> } : {}),
      target,
      ...(row.consumerGroup ? { consumerGroup: row.consumerGroup } : {}),
      ...(landedUpTo ? { landedUpTo } : {}),
    },
    config,
  };
}

/**
 * While the topic's agents are deployed (running or paused), their checkpoints: they will land what
 * lies past them with their own file boundaries, so a replay into their layout rewrites only up to
 * there (read when the run starts, so it sees the newest). Null when no agent is deployed.
 */
async function deployedCheckpoints(
  services: DeploymentServices,
  topicId: string,
  config: TopicConfig,
): Promise<Record<string, number> | null> {
  const topic = await services.prisma.topic.findUniqueOrThrow({
    where: { id: topicId },
    select: { deployment: { select: { phase: true } } },
  });
  const phase = topic.deployment?.phase;
  if (!phase || phase === 'deleted') return null;
  const client = consumerFor(config);
  try {
    const checkpoints = await readStoredCheckpoints(
      config,
      client.fullyQualifiedNamespace,
      client.eventHubName,
    ).catch((error) => {
      throw new AppError(
        'PRECONDITION_FAILED',
        `cannot read the topic's checkpoints, which bound a replay into its own layout: ${describe(error)}`,
      );
    });
    return Object.fromEntries([...checkpoints].map(([partition, c]) => [partition, c.sequenceNumber]));
  } finally {
    await client.close();
  }
}

/** Where the replay wrote, as `hubcap verify` reads it. */
function storeOf(config: TopicConfig): LakeStore {
  const d = config.destination;
  return d.kind === 'localFolder'
    ? new FolderStore(d.path)
    : new BlobStore(storageService(d.account).getContainerClient(d.container));
}

/** `hubcap verify` of the replay's prefix, narrowed to the windows and partitions it wrote. */
export async function verifyReplay(
  config: TopicConfig,
  target: ReplayTarget,
  partitions: ReplayPartition[],
): Promise<ReplayVerify> {
  const prefix =
    target.kind === 'prefix'
      ? target.prefix
      : config.destination.kind === 'azureBlob'
        ? config.destination.prefix
        : '';
  try {
    const report = await verify(storeOf(config), { prefix, template: config.pathTemplate });
    const touched = (partition: string, first: number, last: number) =>
      partitions.some(
        (p) =>
          p.partitionId === partition &&
          p.firstSequence !== null &&
          first <= p.lastSequence! &&
          p.firstSequence <= last,
      );
    const replayed = report.cells.filter(
      (c) => c.sequences && touched(c.partition, c.sequences.firstSequence, c.sequences.lastSequence),
    );
    // Into a prefix, a replay's first window per partition is open when the replay starts inside it
    // (only whole windows are sealed): its files lack a manifest by design, not by accident.
    const cut = (c: (typeof replayed)[number]) =>
      target.kind === 'prefix' && replayed.find((x) => x.partition === c.partition) === c;
    const cells = replayed.map((c) => {
      const problems = c.problems.filter((p) => !(cut(c) && p.kind === 'unlisted-file'));
      return {
        window: c.window,
        partition: c.partition,
        // What made it a problem was only its missing manifest: it is the open window it is.
        status: c.status === 'problem' && problems.length === 0 ? ('open' as const) : c.status,
        events: c.events,
        files: c.files,
        problems: problems.map((p) => p.message),
      };
    });
    const problems = cells.reduce((n, c) => n + c.problems.length, 0);
    return { ok: problems === 0, problems, cells };
  } catch (error) {
    return { ok: false, problems: 1, cells: [], error: `verify could not run: ${describe(error)}` };
  }
}

/** A run's report: progress; at the end the verify report of what it wrote. */
export async function recordReplayProgress(
  services: DeploymentServices,
  agent: AgentPrincipal,
  progress: ReplayProgress,
): Promise<{ cancelled: boolean }> {
  const row = await runOf(services.prisma, agent, progress.id);
  if (row.state === 'cancelled') return { cancelled: true };
  if (FINISHED.has(row.state)) return { cancelled: false };
  await services.prisma.replay.updateMany({
    where: { id: row.id, state: { in: UNFINISHED_REPLAY_STATES } },
    data: {
      partitions: progress.partitions as Prisma.InputJsonValue,
      state: 'running',
      message: progress.state === 'failed' ? `Attempt failed (retrying): ${progress.message ?? ''}` : '',
    },
  });
  if (progress.state !== 'succeeded') return { cancelled: false };
  if (!(await finish(services.prisma, row.id, row.topicId, 'succeeded', ''))) return { cancelled: false };
  await audit(
    services.prisma,
    { actor: `agent:${agent.agentId}` },
    'replay.finish',
    { type: 'topic', id: row.topicId },
    {
      replay: row.id,
      events: progress.partitions.reduce((n, p) => n + replayedEvents(p), 0),
    },
  );
  // Verify reads the whole prefix: after the answer, so the run's last report never waits on it.
  void storeVerify(services, row, progress.partitions);
  return { cancelled: false };
}

async function storeVerify(
  services: DeploymentServices,
  row: Row,
  partitions: ReplayPartition[],
): Promise<void> {
  try {
    const { config } = await loadAgentConfig(services.prisma, services.secrets, row.topicId);
    const report = await verifyReplay(config, row.target as ReplayTarget, partitions);
    await services.prisma.replay.update({
      where: { id: row.id },
      data: { verify: report as Prisma.InputJsonValue, message: report.ok ? '' : 'Verify found problems.' },
    });
  } catch {
    // The topic was deleted meanwhile: nothing to store.
  }
}
