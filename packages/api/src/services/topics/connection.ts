import { randomBytes } from 'node:crypto';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { EventHubConsumerClient, type ReceivedEventData } from '@azure/event-hubs';
import { DefaultAzureCredential, type TokenCredential } from '@azure/identity';
import { BlobServiceClient } from '@azure/storage-blob';
import { storageHost, type TopicConfig } from '@hubcap/shared';

export type CheckState = 'ok' | 'warn' | 'fail';
export interface Check {
  name: string;
  state: CheckState;
  detail: string;
}

const TIMEOUT_MS = 10_000;

/**
 * The identity named by the topic (or the server's own), found as the agent finds it: workload
 * identity on Kubernetes (the web pod's federated ServiceAccount), else a managed identity.
 */
export function credential(clientId: string | undefined): TokenCredential {
  return new DefaultAzureCredential(
    clientId ? { managedIdentityClientId: clientId, workloadIdentityClientId: clientId } : {},
  );
}

/** A client of the destination's storage account, failing fast (one try per request). */
export function storageService(
  account: Extract<TopicConfig['destination'], { kind: 'azureBlob' }>['account'],
): BlobServiceClient {
  const options = { retryOptions: { maxTries: 1 } };
  return account.kind === 'connectionString'
    ? BlobServiceClient.fromConnectionString(account.connectionString, options)
    : new BlobServiceClient(account.accountUrl, credential(account.clientId), options);
}

export function consumerFor(config: TopicConfig): EventHubConsumerClient {
  const { source } = config;
  const options = { retryOptions: { maxRetries: 0, timeoutInMs: TIMEOUT_MS } };
  return source.auth.kind === 'connectionString'
    ? new EventHubConsumerClient(
        source.consumerGroup,
        source.auth.connectionString,
        source.eventHubName,
        options,
      )
    : new EventHubConsumerClient(
        source.consumerGroup,
        source.fullyQualifiedNamespace,
        source.eventHubName,
        credential(source.auth.clientId),
        options,
      );
}

/**
 * What went wrong, as a category. Never the remote side's words: echoing what a host answered would
 * let anyone who can test a connection read other services through the server.
 */
function category(error: unknown): string {
  const e = error as { code?: unknown; name?: unknown; statusCode?: unknown; message?: unknown };
  const text = `${String(e.code ?? '')} ${String(e.name ?? '')} ${String(e.message ?? '')}`;
  if (/timed? ?out|did not answer|ETIMEDOUT/i.test(text)) return 'timed out';
  if (/ECONNREFUSED/.test(text)) return 'connection refused';
  if (/ENOTFOUND|EAI_AGAIN|EHOSTUNREACH|ENETUNREACH|ECONNRESET|ServiceCommunication/i.test(text))
    return 'unreachable';
  if (/CERT|SSL|TLS|EPROTO/i.test(text)) return 'TLS error';
  if (
    e.statusCode === 401 ||
    e.statusCode === 403 ||
    /Unauthori[sz]ed|Authentication|Authorization|CredentialUnavailable/i.test(text)
  )
    return 'unauthorised';
  if (e.statusCode === 404 || /NotFound|ENOENT/i.test(text)) return 'not found';
  if (/EACCES|EPERM|EROFS/.test(text)) return 'permission denied';
  return 'failed (an unexpected answer)';
}

/** One line a person can act on: the category and the endpoint they typed. */
export function connectionFailure(error: unknown, config: TopicConfig, endpoint?: string): string {
  return `${category(error)} (${endpoint ?? config.source.fullyQualifiedNamespace})`;
}

function destinationEndpoint(config: TopicConfig): string {
  const { destination } = config;
  if (destination.kind === 'localFolder') return destination.path;
  const { account } = destination;
  const host =
    account.kind === 'connectionString' ? storageHost(account.connectionString)?.host : account.accountUrl;
  return `${host ?? 'storage account'}, container ${destination.container}`;
}

/** An error as one line for the server's own log (never shown to people: see connectionFailure). */
export function describe(error: unknown): string {
  const e = error as { code?: string; message?: string };
  const message = (e.message ?? String(error))
    .split('\n')[0]!
    .replace(/SharedAccessKey=[^;\s]+/gi, 'SharedAccessKey=…');
  return e.code && !message.includes(e.code) ? `${e.code}: ${message}` : message;
}

export async function withTimeout<T>(what: string, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`${what} did not answer within ${TIMEOUT_MS / 1000} s`)),
      TIMEOUT_MS,
    );
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export interface PartitionInfo {
  partitionId: string;
  beginningSequenceNumber: number;
  lastEnqueuedSequenceNumber: number;
  lastEnqueuedAt: string | null;
  isEmpty: boolean;
}

export async function readPartitions(client: EventHubConsumerClient): Promise<PartitionInfo[]> {
  const ids = await withTimeout('the event hub', client.getPartitionIds());
  return Promise.all(
    ids.map(async (partitionId) => {
      const p = await withTimeout('the event hub', client.getPartitionProperties(partitionId));
      return {
        partitionId,
        beginningSequenceNumber: p.beginningSequenceNumber,
        lastEnqueuedSequenceNumber: p.lastEnqueuedSequenceNumber,
        lastEnqueuedAt: p.isEmpty ? null : p.lastEnqueuedOnUtc.toISOString(),
        isEmpty: p.isEmpty,
      };
    }),
  );
}

/**
 * Receives up to `count` events of one partition from `fromSequence` on, or what arrives within the
 * wait. Opening the receiver also proves the consumer group exists and may be read.
 */
export async function receive(
  client: EventHubConsumerClient,
  partitionId: string,
  fromSequence: number,
  count: number,
  waitSeconds: number,
): Promise<ReceivedEventData[]> {
  const events: ReceivedEventData[] = [];
  let failure: unknown;
  await new Promise<void>((resolve) => {
    const deadline = setTimeout(
      () => void subscription.close().then(resolve, resolve),
      waitSeconds * 1000 + 2000,
    );
    const subscription = client.subscribe(
      partitionId,
      {
        processEvents: async (batch) => {
          events.push(...batch);
          if (events.length >= count || batch.length === 0) {
            clearTimeout(deadline);
            await subscription.close();
            resolve();
          }
        },
        processError: async (error) => {
          failure = error;
          clearTimeout(deadline);
          await subscription.close();
          resolve();
        },
      },
      {
        startPosition: { sequenceNumber: fromSequence, isInclusive: true },
        maxBatchSize: count,
        maxWaitTimeInSeconds: waitSeconds,
      },
    );
  });
  if (failure && events.length === 0) throw failure;
  return events.slice(0, count);
}

async function checkDestination(config: TopicConfig): Promise<Check[]> {
  const { destination } = config;
  if (destination.kind === 'localFolder') {
    const probe = join(destination.path, `.hubcap-probe-${randomBytes(6).toString('hex')}`);
    try {
      await mkdir(destination.path, { recursive: true });
      await writeFile(probe, 'hubcap probe');
      await rm(probe);
      return [
        {
          name: 'Destination folder',
          state: 'ok',
          detail: `wrote and deleted a probe file in ${destination.path}`,
        },
      ];
    } catch (error) {
      return [
        {
          name: 'Destination folder',
          state: 'fail',
          detail: connectionFailure(error, config, destination.path),
        },
      ];
    }
  }
  const service = storageService(destination.account);
  const checks: Check[] = [];
  const container = service.getContainerClient(destination.container);
  try {
    if (!(await withTimeout('the storage account', container.exists()))) {
      checks.push({
        name: 'Destination container',
        state: 'warn',
        detail: `container "${destination.container}" does not exist yet: the agent creates it when it starts (its identity needs the right to create containers)`,
      });
    } else {
      const name = `${destination.prefix ? `${destination.prefix.replace(/\/$/, '')}/` : ''}.hubcap-probe-${randomBytes(6).toString('hex')}`;
      const blob = container.getBlockBlobClient(name);
      await withTimeout('the storage account', blob.upload('hubcap probe', 12));
      await withTimeout('the storage account', blob.delete());
      checks.push({
        name: 'Destination container',
        state: 'ok',
        detail: `wrote and deleted probe blob ${destination.container}/${name}`,
      });
    }
  } catch (error) {
    checks.push({
      name: 'Destination container',
      state: 'fail',
      detail: connectionFailure(error, config, destinationEndpoint(config)),
    });
    return checks;
  }
  try {
    const exists = await withTimeout(
      'the storage account',
      service.getContainerClient(destination.checkpointContainer).exists(),
    );
    checks.push({
      name: 'Checkpoint container',
      state: exists ? 'ok' : 'warn',
      detail: exists
        ? `container "${destination.checkpointContainer}" exists`
        : `container "${destination.checkpointContainer}" does not exist yet: the agent creates it when it starts (its identity needs the right to create containers)`,
    });
  } catch (error) {
    checks.push({
      name: 'Checkpoint container',
      state: 'fail',
      detail: connectionFailure(error, config, destinationEndpoint(config)),
    });
  }
  return checks;
}

/**
 * Event Hubs refuses a plain receiver while one with an owner level (an agent's) reads the partition
 * in the same consumer group: the service closes the link as "stolen".
 */
function heldByOwner(error: unknown): boolean {
  const e = error as { code?: string; message?: string };
  return e.code === 'ReceiverDisconnectedError' || /\bepoch\b/i.test(e.message ?? '');
}

/** Opening a receiver proves the consumer group exists and may be read, unless an agent holds it. */
async function checkConsumerGroup(
  client: EventHubConsumerClient,
  config: TopicConfig,
  partition: PartitionInfo,
  ownAgentReading: boolean,
): Promise<Check> {
  const group = config.source.consumerGroup;
  const at = `partition ${partition.partitionId}`;
  try {
    await withTimeout(
      'the consumer group',
      receive(client, partition.partitionId, Math.max(partition.lastEnqueuedSequenceNumber, 0), 1, 1),
    );
    return { name: 'Consumer group', state: 'ok', detail: `"${group}" accepted a receiver on ${at}` };
  } catch (error) {
    if (!heldByOwner(error)) {
      return { name: 'Consumer group', state: 'fail', detail: connectionFailure(error, config) };
    }
    return ownAgentReading
      ? {
          name: 'Consumer group',
          state: 'ok',
          detail: `"${group}" is being read by this topic's agent (it holds ${at}); the test left it undisturbed`,
        }
      : {
          name: 'Consumer group',
          state: 'fail',
          detail: `another reader holds ${at} of "${group}" (an agent of another topic, or another application): give this topic a consumer group of its own`,
        };
  }
}

/**
 * Test connection, server-side: the hub's partitions, a receiver in the consumer group, and a probe
 * blob written to and deleted from the destination. Nothing is stored; messages hold no secrets.
 * `ownAgentReading`: this topic's own agent is running, so a partition held in the group is its.
 */
export async function testConnection(config: TopicConfig, { ownAgentReading = false } = {}) {
  const checks: Check[] = [];
  let partitions: PartitionInfo[] = [];
  const client = consumerFor(config);
  try {
    partitions = await readPartitions(client);
    checks.push({
      name: 'Event hub',
      state: 'ok',
      detail: `"${config.source.eventHubName}" has ${partitions.length} partitions (${partitions.filter((p) => !p.isEmpty).length} with events)`,
    });
    const first = partitions[0];
    if (first) checks.push(await checkConsumerGroup(client, config, first, ownAgentReading));
  } catch (error) {
    checks.push({ name: 'Event hub', state: 'fail', detail: connectionFailure(error, config) });
  } finally {
    await client.close().catch(() => {});
  }
  checks.push(...(await checkDestination(config)));
  return { ok: checks.every((c) => c.state !== 'fail'), checks, partitions };
}

export interface InferredField {
  path: string;
  types: string[];
  /** In how many of the previewed events the field appears. */
  seen: number;
}

function typeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  if (typeof value === 'string' && /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/.test(value)) return 'timestamp';
  return typeof value;
}

/** Fields found in JSON bodies, nested objects flattened to dotted paths, with their types. */
export function inferFields(bodies: unknown[]): InferredField[] {
  const fields = new Map<string, { types: Set<string>; seen: number }>();
  const walk = (value: unknown, prefix: string, seenHere: Set<string>) => {
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
      for (const [key, child] of Object.entries(value))
        walk(child, prefix ? `${prefix}.${key}` : key, seenHere);
      return;
    }
    const field = fields.get(prefix) ?? { types: new Set(), seen: 0 };
    field.types.add(typeOf(value));
    if (!seenHere.has(prefix)) {
      field.seen++;
      seenHere.add(prefix);
    }
    fields.set(prefix, field);
  };
  for (const body of bodies) {
    if (body !== null && typeof body === 'object' && !Array.isArray(body)) walk(body, '', new Set());
  }
  return [...fields.entries()]
    .map(([path, f]) => ({ path, types: [...f.types].sort(), seen: f.seen }))
    .sort((a, b) => a.path.localeCompare(b.path));
}

const MAX_BODY_CHARS = 4000;

function decodeBody(body: unknown): { text: string; json: unknown } {
  let text: string;
  if (body instanceof Uint8Array) text = Buffer.from(body).toString('utf8');
  else if (typeof body === 'string') text = body;
  else return { text: JSON.stringify(body, null, 2).slice(0, MAX_BODY_CHARS), json: body };
  try {
    const json: unknown = JSON.parse(text);
    return { text: JSON.stringify(json, null, 2).slice(0, MAX_BODY_CHARS), json };
  } catch {
    return { text: text.slice(0, MAX_BODY_CHARS), json: undefined };
  }
}

/** The latest `count` events of the hub (across partitions, newest first) and the fields inferred from them. */
export async function previewEvents(config: TopicConfig, count = 20) {
  const client = consumerFor(config);
  try {
    const partitions = await readPartitions(client);
    const received = await Promise.all(
      partitions
        .filter((p) => !p.isEmpty)
        .map((p) =>
          receive(
            client,
            p.partitionId,
            Math.max(p.beginningSequenceNumber, p.lastEnqueuedSequenceNumber - count + 1),
            count,
            2,
          ).then((events) => events.map((e) => ({ partitionId: p.partitionId, event: e }))),
        ),
    );
    const latest = received
      .flat()
      .sort((a, b) => b.event.enqueuedTimeUtc.getTime() - a.event.enqueuedTimeUtc.getTime())
      .slice(0, count);
    const decoded = latest.map(({ partitionId, event }) => ({
      partitionId,
      sequenceNumber: event.sequenceNumber,
      enqueuedAt: event.enqueuedTimeUtc.toISOString(),
      ...decodeBody(event.body),
    }));
    return {
      events: decoded.map(({ json, ...e }) => ({ ...e, isJson: json !== undefined })),
      fields: inferFields(decoded.map((e) => e.json)),
      partitions: partitions.length,
    };
  } finally {
    await client.close().catch(() => {});
  }
}
