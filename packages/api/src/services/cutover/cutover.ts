import { BlobServiceClient, type ContainerClient } from '@azure/storage-blob';
import {
  type CaptureSource,
  capturePlan,
  continuityReport,
  StorageUnreachableError,
  seedCheckpoints,
} from '@hubcap/lake';
import {
  type CaptureLocation,
  type ContinuityReport,
  type CutoverDirection,
  type CutoverPlan,
  namespaceName,
  type TopicConfig,
} from '@hubcap/shared';
import type { SecurityPolicy } from '../../context.ts';
import { AppError } from '../../errors.ts';
import { type Actor, auditTopic } from '../audit.ts';
import { type DeploymentServices, deployTopic } from '../deployments/deployments.ts';
import { readStoredCheckpoints, type StoredCheckpoint, TOPIC_RUN_STATE } from '../telemetry/lag-probe.ts';
import {
  consumerFor,
  credential,
  describe,
  type PartitionInfo,
  readPartitions,
  withTimeout,
} from '../topics/connection.ts';
import { assertPolicy } from '../topics/policy.ts';
import { loadAgentConfig } from '../topics/topic-configs.ts';

export interface CutoverServices extends DeploymentServices {
  policy: SecurityPolicy;
}

/** Agents that reported within this window are running (as the lag probe judges it). */
const AGENT_FRESH_MS = 60_000;

type AzureBlob = Extract<TopicConfig['destination'], { kind: 'azureBlob' }>;

/** The topic, its config (secrets opened, server-side only) and its hub as the SDK names it. */
export async function load(services: CutoverServices, name: string) {
  const topic = await services.prisma.topic.findUnique({
    where: { slug: name },
    select: TOPIC_RUN_STATE,
  });
  if (!topic) throw new AppError('NOT_FOUND', `no topic named "${name}"`);
  const { config } = await loadAgentConfig(services.prisma, services.secrets, topic.id);
  // The server would connect to these endpoints on the user's behalf: only allowed ones.
  assertPolicy(config, services.policy);
  const { destination } = config;
  if (destination.kind !== 'azureBlob')
    throw new AppError(
      'PRECONDITION_FAILED',
      "a cutover reads Capture's files with the topic's storage account; this topic writes to a local folder",
    );
  return { topic, config, destination };
}

function storage(destination: AzureBlob): BlobServiceClient {
  const { account } = destination;
  // One try: a person waits on the page, and an unreachable account should say so at once.
  const options = { retryOptions: { maxTries: 1 } };
  return account.kind === 'connectionString'
    ? BlobServiceClient.fromConnectionString(account.connectionString, options)
    : new BlobServiceClient(account.accountUrl, credential(account.clientId), options);
}

/** The hub's partition ids and the namespace as the SDK (and so the agent's checkpoints) names it. */
export async function readHub(config: TopicConfig) {
  const client = consumerFor(config);
  try {
    const partitions = await withTimeout('the event hub', readPartitions(client));
    return {
      partitions,
      partitionIds: partitions.map((p) => p.partitionId),
      fullyQualifiedNamespace: client.fullyQualifiedNamespace,
      eventHubName: client.eventHubName,
    };
  } catch (error) {
    throw new AppError('BAD_GATEWAY', `cannot read the event hub's partitions: ${describe(error)}`);
  } finally {
    await client.close().catch(() => {});
  }
}

export function captureSource(
  destination: AzureBlob,
  location: CaptureLocation,
  hub: { fullyQualifiedNamespace: string; eventHubName: string },
): CaptureSource {
  return {
    container: storage(destination).getContainerClient(location.container),
    pathFormat: location.pathFormat,
    namespace: namespaceName(hub.fullyQualifiedNamespace),
    hub: hub.eventHubName,
  };
}

/** Storage problems are the account's, not the server's: said in plain words, never a 500. */
export async function reading<T>(work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (error) {
    if (error instanceof StorageUnreachableError)
      throw new AppError(error.missing ? 'NOT_FOUND' : 'BAD_GATEWAY', error.message);
    throw error;
  }
}

export const list = (ids: Iterable<string>) => [...ids].join(', ');

/**
 * Checks the plan against the hub: Capture's last event must be one the hub assigned (files of a
 * recreated hub are not), and Hubcap's first should still be held (retention may have dropped it).
 */
function againstHub(
  found: Pick<CutoverPlan, 'partitions'>,
  hub: readonly PartitionInfo[],
  startPosition: TopicConfig['source']['startPosition'],
) {
  const warnings: string[] = [];
  const partitions = found.partitions.map((row) => {
    // Empty on the hub and in Capture: agents start there without a checkpoint, so at the topic's start position.
    if (!row.captureLast && !row.problem && startPosition === 'latest')
      return {
        ...row,
        problem:
          'empty on the hub and in Capture, and the topic starts at the latest event where it has no checkpoint: set its start position to earliest, so events arriving before the agents start are landed',
      };
    const info = hub.find((p) => p.partitionId === row.partitionId);
    if (!info || !row.captureLast || row.hubcapFirst === null || row.problem) return row;
    const last = info.isEmpty ? -1 : info.lastEnqueuedSequenceNumber;
    if (row.captureLast.sequenceNumber > last)
      return {
        ...row,
        problem: `Capture's last event (${row.captureLast.sequenceNumber}) is past the hub's last (${last}): these files are not this hub's (was it recreated?)`,
      };
    if (!info.isEmpty && row.hubcapFirst < info.beginningSequenceNumber) {
      const lost = info.beginningSequenceNumber - row.hubcapFirst;
      warnings.push(
        `partition ${row.partitionId}: the hub no longer holds ${row.hubcapFirst}–${info.beginningSequenceNumber - 1} (${lost} events past retention): landed by neither, they are lost at source`,
      );
    }
    return row;
  });
  return { partitions, warnings };
}

/** Whether the topic's agents may be reading: deployed to run, or reported within the last minute. */
export function agentsRunning(topic: Awaited<ReturnType<typeof load>>['topic'], now: Date): boolean {
  return (
    (topic.desiredState === 'running' &&
      ['pending', 'applying', 'running'].includes(topic.deployment?.phase ?? '')) ||
    topic.agents.some((a) => a.lastSeenAt && now.getTime() - a.lastSeenAt.getTime() < AGENT_FRESH_MS)
  );
}

/** Where the topic's agents land, as the continuity report reads it. */
export function landingOf(destination: AzureBlob) {
  return {
    container: storage(destination).getContainerClient(destination.container),
    prefix: destination.prefix ?? '',
  };
}

/** Why a plan cannot be applied now, each with what to do about it. */
function blockersOf(
  topic: Awaited<ReturnType<typeof load>>['topic'],
  partitions: CutoverPlan['partitions'],
  checkpoints: Map<string, StoredCheckpoint>,
  now: Date,
): string[] {
  const blockers: string[] = [];
  // Checkpoints exactly at the plan are a cutover applied before (a retry); any other means landed data.
  const foreign = [...checkpoints].filter(
    ([id, c]) =>
      partitions.find((p) => p.partitionId === id)?.captureLast?.sequenceNumber !== c.sequenceNumber,
  );
  if (foreign.length > 0)
    blockers.push(
      `the topic has already landed data (checkpoints on partition ${list(foreign.map(([id]) => id))}): a cutover starts a topic that has never run; create a new topic for this hub with its own consumer group`,
    );
  if (agentsRunning(topic, now))
    blockers.push(
      'its agents are running: remove the deployment and wait until no agent reports, then scan again',
    );
  for (const p of partitions) if (p.problem) blockers.push(`partition ${p.partitionId}: ${p.problem}`);
  return blockers;
}

async function plan(services: CutoverServices, location: CaptureLocation, now = new Date()) {
  const loaded = await load(services, location.topic);
  const hub = await readHub(loaded.config);
  const scanned = await reading(
    capturePlan(
      captureSource(loaded.destination, location, hub),
      hub.partitionIds,
      new Set(hub.partitions.filter((p) => p.isEmpty).map((p) => p.partitionId)),
    ),
  );
  const found = { ...scanned, ...againstHub(scanned, hub.partitions, loaded.config.source.startPosition) };
  const checkpoints = await reading(
    readStoredCheckpoints(loaded.config, hub.fullyQualifiedNamespace, hub.eventHubName).catch((error) => {
      throw new StorageUnreachableError(`cannot read the topic's checkpoints: ${describe(error)}`);
    }),
  );
  const result: CutoverPlan = {
    topic: loaded.topic.slug,
    container: location.container,
    pathFormat: location.pathFormat,
    ...found,
    blockers: blockersOf(loaded.topic, found.partitions, checkpoints, now),
  };
  return { ...loaded, hub, plan: result };
}

/** Per partition Capture's last event and Hubcap's first, and why it cannot start yet, if so. */
export async function cutoverPlan(
  services: CutoverServices,
  location: CaptureLocation,
): Promise<CutoverPlan> {
  return (await plan(services, location)).plan;
}

export interface StartedCutover {
  plan: CutoverPlan;
  /** The deployment's phase and message after starting agents; null without a deployer. */
  deployment: { phase: string; message: string } | null;
}

/**
 * Applies the plan the person saw: scans again and refuses when Capture has written since (it has not
 * been stopped), seeds the topic's checkpoints at Capture's last events, records it, then deploys.
 */
export async function startCutover(
  services: CutoverServices,
  input: CaptureLocation & { expected: { partitionId: string; sequenceNumber: number }[] },
  who: Actor,
): Promise<StartedCutover> {
  const { topic, config, destination, hub, plan: now } = await plan(services, input);
  if (now.blockers.length > 0)
    throw new AppError('CONFLICT', `the cutover cannot start: ${now.blockers.join('; ')}`);
  const expected = new Map(input.expected.map((e) => [e.partitionId, e.sequenceNumber]));
  const moved = now.partitions.filter(
    (p) => (expected.get(p.partitionId) ?? null) !== (p.captureLast?.sequenceNumber ?? null),
  );
  if (moved.length > 0)
    throw new AppError(
      'CONFLICT',
      `Capture's files changed since the plan was shown (partition ${list(
        moved.map(
          (p) =>
            `${p.partitionId}: ${expected.get(p.partitionId) ?? 'none'} → ${p.captureLast?.sequenceNumber ?? 'none'}`,
        ),
      )}): Capture is still writing. Disable Capture on the event hub, wait for its last window to close, then scan again.`,
    );
  const checkpointContainer: ContainerClient = storage(destination).getContainerClient(
    destination.checkpointContainer,
  );
  await reading(
    (async () => {
      await checkpointContainer.createIfNotExists().catch((error) => {
        throw new StorageUnreachableError(
          `cannot create ${destination.checkpointContainer}: ${describe(error)}`,
        );
      });
      await seedCheckpoints(
        checkpointContainer,
        { topic: topic.slug, ...hub, consumerGroup: config.source.consumerGroup },
        // Partitions empty on the hub and in Capture get none: their agents start at the first event.
        now.partitions.flatMap((p) =>
          p.captureLast?.offset
            ? [
                {
                  partitionId: p.partitionId,
                  sequenceNumber: p.captureLast.sequenceNumber,
                  offset: p.captureLast.offset,
                },
              ]
            : [],
        ),
      );
    })(),
  );
  await auditTopic(services.prisma, who, 'cutover.start', topic, {
    container: input.container,
    pathFormat: input.pathFormat,
    partitions: now.partitions.map((p) => ({
      partitionId: p.partitionId,
      captureLast: p.captureLast?.sequenceNumber,
      captureFile: p.captureLast?.file,
      hubcapFirst: p.hubcapFirst,
    })),
  });
  if (!services.deployer) return { plan: now, deployment: null };
  const status = await deployTopic(services, topic.slug, who, 'deploy');
  return { plan: now, deployment: { phase: status.phase, message: status.message } };
}

/**
 * Continuity per partition after a handover, read from both sides' files: toHubcap after a cutover,
 * toCapture after a rollback (Capture enabled again).
 */
export async function cutoverReport(
  services: CutoverServices,
  input: CaptureLocation & { direction: CutoverDirection },
): Promise<ContinuityReport> {
  const { topic, config, destination } = await load(services, input.topic);
  const hub = await readHub(config);
  const report = await reading(
    continuityReport(
      captureSource(destination, input, hub),
      landingOf(destination),
      input.direction,
      hub.partitionIds,
    ),
  );
  return { topic: topic.slug, ...report };
}
