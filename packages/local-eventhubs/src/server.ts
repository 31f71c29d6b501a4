import type { AddressInfo, Server, Socket } from 'node:net';
import { join } from 'node:path';
import rhea from 'rhea';
import { AmqpDecodeError, encodeRuntimeInfo, eventPartitionKey, parseIncoming } from './amqp-codec.ts';
import {
  BATCH_MESSAGE_FORMAT,
  DEFAULT_CONSUMER_GROUP,
  DEFAULT_KEY_NAME,
  DEV_SHARED_ACCESS_KEY,
  MAX_MESSAGE_SIZE,
  MAX_RECEIVERS_PER_PARTITION,
} from './constants.ts';
import {
  fastBudget,
  fastPathState,
  maxSingleFramePayload,
  onSocketDrain,
  writeTransfers,
} from './fast-transfer.ts';
import { FilterError, parseSelectorFilter, type StartPosition } from './filter.ts';
import { partitionForKey } from './partition-hash.ts';
import { PartitionLog, PositionError, type Retention } from './partition-log.ts';
import type { AmqpError, RheaConnection, RheaContext, RheaLink, RheaMessage } from './rhea-shapes.ts';
import { type SasKey, validateSasToken } from './sas.ts';

export interface HubOptions {
  name: string;
  partitionCount: number;
  /** `$Default` is always present. */
  consumerGroups?: string[];
  /** Overrides the server-wide retention for this hub. */
  retention?: Retention;
}

export interface LocalEventHubsOptions {
  /** TCP port; 0 (the default) picks a free one. */
  port?: number;
  host?: string;
  /** Defaults to one hub `demo` with 4 partitions. */
  hubs?: HubOptions[];
  keyName?: string;
  key?: string;
  /** Folder for the per-partition logs; without it events live in memory only. */
  persistDir?: string;
  retention?: Retention;
  /** Largest message a sender may send (default 1 MB, as the Standard tier). */
  maxMessageSize?: number;
  /** Receives one line per notable server event (connections, errors). */
  log?: (line: string) => void;
  /** The clock that stamps enqueued times and ages retention (tests set it to a window's end). */
  now?: () => number;
}

export interface LocalEventHubs {
  port: number;
  host: string;
  connectionString(hub?: string): string;
  close(): Promise<void>;
}

interface Hub {
  name: string;
  createdAt: Date;
  consumerGroups: Map<string, string>;
  partitions: PartitionLog[];
}

interface PartitionReceiver {
  link: RheaLink;
  hub: Hub;
  log: PartitionLog;
  key: string;
  epoch: number | undefined;
  next: number;
  runtimeMetrics: boolean;
  closed: boolean;
  scheduled: boolean;
  awaitingDrain: boolean;
  unsubscribe: () => void;
}

interface ConnectionState {
  /** Entity paths (lower case, no host) this connection holds a valid token for, with expiry. */
  claims: Map<string, number>;
}

const TAG = Buffer.alloc(0);
const PUMP_SLICE = 2000;
const PUMP_BYTES = 256 * 1024;
const CBS_TOKEN_TYPE_SAS = 'servicebus.windows.net:sastoken';

function notFound(description: string): AmqpError {
  return { condition: 'amqp:not-found', description };
}

function lowerPathOf(audienceOrAddress: string): string {
  const noScheme = audienceOrAddress.replace(/^(sb|amqps?):\/\/[^/]*\/?/i, '');
  return noScheme
    .replace(/\/\$management$/i, '')
    .replace(/\/+$/, '')
    .toLowerCase();
}

function toNumber(value: unknown): number | undefined {
  if (typeof value === 'number') return value;
  if (typeof value === 'bigint') return Number(value);
  if (Buffer.isBuffer(value) && value.length === 8) return Number(value.readBigInt64BE(0));
  if (value && typeof value === 'object' && 'value' in value)
    return toNumber((value as { value: unknown }).value);
  return undefined;
}

function capabilities(value: string | string[] | undefined): string[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

export async function startLocalEventHubs(options: LocalEventHubsOptions = {}): Promise<LocalEventHubs> {
  const host = options.host ?? '127.0.0.1';
  const keyName = options.keyName ?? DEFAULT_KEY_NAME;
  const key = options.key ?? DEV_SHARED_ACCESS_KEY;
  const keys: SasKey[] = [{ keyName, key }];
  const maxMessageSize = options.maxMessageSize ?? MAX_MESSAGE_SIZE;
  const log = options.log ?? (() => {});
  const now = options.now ?? Date.now;
  const hubs = new Map<string, Hub>();

  for (const h of options.hubs ?? [{ name: 'demo', partitionCount: 4 }]) {
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(h.name)) throw new Error(`Invalid hub name '${h.name}'.`);
    if (!Number.isInteger(h.partitionCount) || h.partitionCount < 1 || h.partitionCount > 1024) {
      throw new Error(`Hub '${h.name}' needs a partition count between 1 and 1024.`);
    }
    const consumerGroups = new Map<string, string>([
      [DEFAULT_CONSUMER_GROUP.toLowerCase(), DEFAULT_CONSUMER_GROUP],
    ]);
    for (const g of h.consumerGroups ?? []) consumerGroups.set(g.toLowerCase(), g);
    const retention = h.retention ?? options.retention ?? {};
    const partitions: PartitionLog[] = [];
    for (let p = 0; p < h.partitionCount; p++) {
      const dir = options.persistDir ? join(options.persistDir, h.name, String(p)) : undefined;
      partitions.push(new PartitionLog(String(p), retention, dir));
    }
    hubs.set(h.name.toLowerCase(), { name: h.name, createdAt: new Date(), consumerGroups, partitions });
  }

  const container = rhea.create_container({ id: `local-eventhubs-${process.pid}` });
  container.sasl_server_mechanisms.enable_anonymous();
  // Clients that authenticate the connection itself (SASL PLAIN) get the same CBS-based checks.
  container.sasl_server_mechanisms.enable_plain(() => true);

  const connections = new WeakMap<RheaConnection, ConnectionState>();
  const receiversByPartition = new Map<string, Set<PartitionReceiver>>();
  const receiversByLink = new WeakMap<RheaLink, PartitionReceiver>();
  let port = 0;

  const stateOf = (connection: RheaConnection): ConnectionState => {
    let state = connections.get(connection);
    if (!state) {
      state = { claims: new Map() };
      connections.set(connection, state);
    }
    return state;
  };

  const entityUri = (path: string): string => `sb://${host}:${port}/${path}`;

  const isAuthorized = (connection: RheaConnection, entityPath: string): boolean => {
    const now = Date.now() / 1000;
    const path = entityPath.toLowerCase();
    for (const [claim, expiresAt] of stateOf(connection).claims) {
      if (expiresAt < now) continue;
      if (claim === '' || path === claim || path.startsWith(`${claim}/`)) return true;
    }
    return false;
  };

  /** Resolves `<hub>[/ConsumerGroups/<cg>][/Partitions/<id>]` to the configured objects. */
  const resolveEntity = (
    path: string,
  ):
    | { ok: true; hub: Hub; consumerGroup: string | undefined; partition: PartitionLog | undefined }
    | { ok: false; error: AmqpError } => {
    const parts = path.split('/').filter((s) => s !== '');
    const hub = parts[0] !== undefined ? hubs.get(parts[0].toLowerCase()) : undefined;
    if (!hub) {
      return {
        ok: false,
        error: notFound(
          `The messaging entity '${entityUri(parts[0] ?? '')}' could not be found. To know more visit https://aka.ms/sbResourceMgrExceptions.`,
        ),
      };
    }
    let i = 1;
    let consumerGroup: string | undefined;
    if (parts[i]?.toLowerCase() === 'consumergroups') {
      const cg = parts[i + 1] ?? '';
      consumerGroup = hub.consumerGroups.get(cg.toLowerCase());
      if (!consumerGroup) {
        return {
          ok: false,
          error: notFound(
            `The messaging entity '${entityUri(`${hub.name}/consumergroups/${cg}`)}' could not be found. To know more visit https://aka.ms/sbResourceMgrExceptions.`,
          ),
        };
      }
      i += 2;
    }
    let partition: PartitionLog | undefined;
    if (parts[i]?.toLowerCase() === 'partitions') {
      const id = parts[i + 1] ?? '';
      partition = /^\d+$/.test(id) ? hub.partitions[Number(id)] : undefined;
      if (!partition) {
        return {
          ok: false,
          error: {
            condition: 'com.microsoft:argument-out-of-range',
            description: `The specified partition is invalid for an EventHub partition sender or receiver. It should be between 0 and ${hub.partitions.length - 1}.`,
          },
        };
      }
      i += 2;
    }
    if (i < parts.length) {
      return { ok: false, error: notFound(`The messaging entity '${entityUri(path)}' could not be found.`) };
    }
    return { ok: true, hub, consumerGroup, partition };
  };

  // --- request/response nodes ($cbs, $management) ------------------------------------------

  /** Reply senders per connection, by node and by the reply address the client listens on. */
  const replyLinks = new WeakMap<RheaConnection, Map<string, RheaLink>>();

  const reply = (
    connection: RheaConnection,
    request: RheaMessage,
    status: number,
    description: string,
    body?: unknown,
    errorCondition?: string,
  ): void => {
    const links = replyLinks.get(connection);
    const link = request.reply_to !== undefined ? links?.get(request.reply_to) : undefined;
    if (!link?.is_open()) {
      log(`no reply link for '${request.reply_to}'`);
      return;
    }
    const properties: Record<string, unknown> = { 'status-code': status, 'status-description': description };
    if (errorCondition) properties['error-condition'] = errorCondition;
    link.send({
      correlation_id: request.message_id,
      application_properties: properties,
      body: body === undefined ? null : body,
    });
  };

  const handleCbs = (connection: RheaConnection, request: RheaMessage): void => {
    const props = request.application_properties ?? {};
    if (props.operation !== 'put-token') {
      reply(connection, request, 400, `Unsupported operation '${String(props.operation)}'.`);
      return;
    }
    const audience = String(props.name ?? '');
    if (props.type !== CBS_TOKEN_TYPE_SAS || typeof request.body !== 'string') {
      reply(connection, request, 401, 'Only shared access signature tokens are accepted.');
      return;
    }
    const result = validateSasToken(request.body, keys, Date.now() / 1000);
    if (!result.ok) {
      reply(connection, request, 401, `InvalidSignature: ${result.reason}`);
      return;
    }
    const claimPath = lowerPathOf(result.audience);
    const audiencePath = lowerPathOf(audience);
    if (audiencePath !== claimPath && !audiencePath.startsWith(`${claimPath}/`) && claimPath !== '') {
      reply(connection, request, 401, 'The token audience does not match the requested audience.');
      return;
    }
    if (audiencePath !== '') {
      const entity = resolveEntity(audiencePath);
      if (!entity.ok && entity.error.condition === 'amqp:not-found') {
        reply(connection, request, 404, entity.error.description, undefined, entity.error.condition);
        return;
      }
    }
    stateOf(connection).claims.set(claimPath, result.expiresAt);
    reply(connection, request, 202, 'Accepted');
  };

  const handleManagement = (connection: RheaConnection, request: RheaMessage): void => {
    const props = request.application_properties ?? {};
    if (props.operation !== 'READ') {
      reply(connection, request, 400, `Unsupported operation '${String(props.operation)}'.`);
      return;
    }
    const hubName = String(props.name ?? '');
    const token = props.security_token;
    if (typeof token === 'string') {
      const result = validateSasToken(token, keys, Date.now() / 1000);
      if (!result.ok) {
        reply(
          connection,
          request,
          401,
          `InvalidSignature: ${result.reason}`,
          undefined,
          'amqp:unauthorized-access',
        );
        return;
      }
    } else if (!isAuthorized(connection, hubName)) {
      reply(connection, request, 401, 'Unauthorized access.', undefined, 'amqp:unauthorized-access');
      return;
    }
    const hub = hubs.get(hubName.toLowerCase());
    if (!hub) {
      reply(
        connection,
        request,
        404,
        `The messaging entity '${entityUri(hubName)}' could not be found. To know more visit https://aka.ms/sbResourceMgrExceptions.`,
        undefined,
        'amqp:not-found',
      );
      return;
    }
    if (props.type === 'com.microsoft:eventhub') {
      reply(connection, request, 200, 'OK', {
        name: hub.name,
        type: 'com.microsoft:eventhub',
        created_at: hub.createdAt,
        partition_count: hub.partitions.length,
        partition_ids: hub.partitions.map((p) => p.partitionId),
        georeplication_factor: 1,
      });
      return;
    }
    if (props.type === 'com.microsoft:partition') {
      const id = String(props.partition ?? '');
      const partition = /^\d+$/.test(id) ? hub.partitions[Number(id)] : undefined;
      if (!partition) {
        reply(
          connection,
          request,
          400,
          `The specified partition is invalid for an EventHub partition sender or receiver. It should be between 0 and ${hub.partitions.length - 1}.`,
          undefined,
          'com.microsoft:argument-out-of-range',
        );
        return;
      }
      const last = partition.lastEnqueued();
      reply(connection, request, 200, 'OK', {
        name: hub.name,
        type: 'com.microsoft:partition',
        partition: partition.partitionId,
        begin_sequence_number: rhea.types.wrap_long(
          partition.isEmpty ? partition.endSequenceNumber : partition.beginSequenceNumber,
        ),
        last_enqueued_sequence_number: rhea.types.wrap_long(last.sequenceNumber),
        last_enqueued_offset: last.offset,
        last_enqueued_time_utc: new Date(last.enqueuedTime),
        is_partition_empty: partition.isEmpty,
      });
      return;
    }
    reply(
      connection,
      request,
      400,
      `Unsupported type '${String(props.type)}'.`,
      undefined,
      'com.microsoft:argument-error',
    );
  };

  // --- partition receivers (the server's senders) -------------------------------------------

  const pump = (r: PartitionReceiver): void => {
    r.scheduled = false;
    if (r.closed) return;
    const link = r.link;
    if (!link.is_open()) return;
    if (r.next < r.log.beginSequenceNumber) r.next = r.log.beginSequenceNumber;
    const end = r.log.endSequenceNumber;
    if (r.next >= end || link.credit <= 0) return;
    const state = fastPathState(link);
    if (state === 'backpressure') {
      if (!r.awaitingDrain) {
        r.awaitingDrain = true;
        onSocketDrain(link, () => {
          r.awaitingDrain = false;
          schedule(r);
        });
      }
      return;
    }
    if (state === 'not-ready') {
      // rhea still has frames of its own queued on this session; go on once they are written.
      schedule(r);
      return;
    }
    const budget = Math.min(fastBudget(link), PUMP_SLICE);
    const maxPayload = maxSingleFramePayload(link);
    const batch: Buffer[] = [];
    let bytesTotal = 0;
    let last: ReturnType<typeof r.log.lastEnqueued> | undefined;
    while (batch.length < budget && r.next < end && bytesTotal < PUMP_BYTES) {
      const event = r.log.read(r.next)!;
      let bytes = event.bytes;
      if (r.runtimeMetrics) {
        last ??= r.log.lastEnqueued();
        const da = encodeRuntimeInfo({
          lastSequenceNumber: last.sequenceNumber,
          lastOffset: last.offset,
          lastEnqueuedTime: last.enqueuedTime,
          retrievalTime: Date.now(),
        });
        bytes = Buffer.concat([
          bytes.subarray(0, event.headerLength),
          da,
          bytes.subarray(event.headerLength),
        ]);
      }
      if (bytes.length > maxPayload) {
        // Needs several frames: leave it to rhea, which fragments, after what is batched so far.
        if (batch.length === 0) {
          link.send(bytes, TAG, 0);
          r.next++;
        }
        break;
      }
      batch.push(bytes);
      bytesTotal += bytes.length;
      r.next++;
    }
    if (batch.length > 0) writeTransfers(link, batch, bytesTotal);
    if (r.next < r.log.endSequenceNumber && link.credit > 0) schedule(r);
  };

  const schedule = (r: PartitionReceiver): void => {
    if (r.scheduled || r.closed) return;
    r.scheduled = true;
    setImmediate(pump, r);
  };

  const removeReceiver = (r: PartitionReceiver): void => {
    if (r.closed) return;
    r.closed = true;
    r.unsubscribe();
    const set = receiversByPartition.get(r.key);
    set?.delete(r);
    if (set?.size === 0) receiversByPartition.delete(r.key);
  };

  const openPartitionReceiver = (link: RheaLink, address: string): void => {
    const attach = link.remote.attach;
    const source = attach?.source;
    link.set_source(source ?? null);
    link.local.attach.snd_settle_mode = 1; // pre-settled, as the SDK's receivers auto-accept anyway
    link.local.attach.max_message_size = maxMessageSize;
    const entity = resolveEntity(address);
    if (!entity.ok) {
      link.close(entity.error);
      return;
    }
    const { hub, consumerGroup, partition } = entity;
    if (consumerGroup === undefined || partition === undefined) {
      link.close(notFound(`The messaging entity '${entityUri(address)}' could not be found.`));
      return;
    }
    if (!isAuthorized(link.connection, address)) {
      link.close({
        condition: 'amqp:unauthorized-access',
        description: 'Unauthorized access. No valid token for this entity.',
      });
      return;
    }
    let position: StartPosition = { kind: 'offset', offset: '@latest', inclusive: false };
    const filters = source?.filter ?? {};
    const filterValue = filters['apache.org:selector-filter:string'] ?? Object.values(filters)[0];
    let next: number;
    try {
      if (filterValue !== undefined) {
        const expr =
          typeof filterValue === 'string'
            ? filterValue
            : String((filterValue as { value?: unknown }).value ?? filterValue);
        position = parseSelectorFilter(expr);
      }
      next = partition.resolveStart(position);
    } catch (err) {
      if (err instanceof FilterError) {
        link.close({ condition: 'com.microsoft:argument-error', description: err.message });
        return;
      }
      if (err instanceof PositionError) {
        link.close({ condition: 'com.microsoft:argument-out-of-range', description: err.message });
        return;
      }
      throw err;
    }
    const epoch = toNumber(attach?.properties?.['com.microsoft:epoch']);
    const name = String(attach?.properties?.['com.microsoft:receiver-name'] ?? attach?.name ?? '');
    const key = `${hub.name.toLowerCase()}/${consumerGroup.toLowerCase()}/${partition.partitionId}`;
    const existing = receiversByPartition.get(key) ?? new Set<PartitionReceiver>();
    const higher = [...existing].find(
      (r) => r.epoch !== undefined && (epoch === undefined || r.epoch > epoch),
    );
    if (higher) {
      link.close({
        condition: 'amqp:link:stolen',
        description:
          epoch === undefined
            ? `Receiver '${name}' cannot be created without an epoch: a receiver with epoch '${higher.epoch}' already exists on partition ${partition.partitionId} of consumer group '${consumerGroup}'.`
            : `Receiver '${name}' with epoch '${epoch}' cannot be created: a receiver with a higher epoch '${higher.epoch}' already exists. Make sure you are creating receivers with increasing epoch values.`,
      });
      return;
    }
    if (epoch !== undefined) {
      for (const r of existing) {
        removeReceiver(r);
        r.link.close({
          condition: 'amqp:link:stolen',
          description: `New receiver '${name}' with higher epoch of '${epoch}' is created hence current receiver '${r.link.name}' with epoch '${r.epoch ?? 'none'}' is getting disconnected. If you are recreating the receiver, make sure a higher epoch is used.`,
        });
      }
    } else if (existing.size >= MAX_RECEIVERS_PER_PARTITION) {
      link.close({
        condition: 'amqp:resource-limit-exceeded',
        description: `Exceeded the maximum number of allowed receivers per partition in a consumer group which is ${MAX_RECEIVERS_PER_PARTITION}.`,
      });
      return;
    }
    const runtimeMetrics = capabilities(attach?.desired_capabilities).includes(
      'com.microsoft:enable-receiver-runtime-metric',
    );
    if (runtimeMetrics)
      link.local.attach.offered_capabilities = 'com.microsoft:enable-receiver-runtime-metric';
    const r: PartitionReceiver = {
      link,
      hub,
      log: partition,
      key,
      epoch,
      next,
      runtimeMetrics,
      closed: false,
      scheduled: false,
      awaitingDrain: false,
      unsubscribe: () => {},
    };
    r.unsubscribe = partition.subscribe(() => schedule(r));
    const set = receiversByPartition.get(key) ?? existing;
    set.add(r);
    receiversByPartition.set(key, set);
    receiversByLink.set(link, r);
  };

  // --- event ingestion (the server's receivers) ---------------------------------------------

  const onEventMessage = (ctx: RheaContext, target: string): void => {
    const delivery = ctx.delivery!;
    const entity = resolveEntity(target);
    if (!entity.ok || !entity.hub) {
      delivery.reject(entity.ok ? undefined : entity.error);
      return;
    }
    const { hub } = entity;
    let payload: Buffer;
    let format: number;
    if (Buffer.isBuffer(ctx.message)) {
      payload = ctx.message;
      format = ctx.format ?? delivery.format ?? 0;
    } else {
      payload = rhea.message.encode(ctx.message as object);
      format = 0;
    }
    if (payload.length > maxMessageSize) {
      delivery.reject({
        condition: 'amqp:link:message-size-exceeded',
        description: `The received message (delivery-id:0, size:${payload.length} bytes) exceeds the limit (${maxMessageSize} bytes) currently allowed on the link.`,
      });
      return;
    }
    try {
      const batch = parseIncoming(payload, format, BATCH_MESSAGE_FORMAT);
      if (batch.events.length === 0) {
        delivery.accept();
        return;
      }
      let partition = entity.partition;
      const partitionKey = batch.partitionKey ?? eventPartitionKey(batch.events[0]!);
      if (!partition) {
        const index =
          partitionKey !== undefined
            ? partitionForKey(partitionKey, hub.partitions.length)
            : Math.floor(Math.random() * hub.partitions.length);
        partition = hub.partitions[index]!;
      }
      partition.append(batch.events, partitionKey, now());
      delivery.accept();
    } catch (err) {
      if (err instanceof AmqpDecodeError) {
        delivery.reject({ condition: 'amqp:decode-error', description: err.message });
        return;
      }
      log(`failed to store events: ${(err as Error).message}`);
      delivery.reject({ condition: 'amqp:internal-error', description: (err as Error).message });
    }
  };

  // --- link and connection events -------------------------------------------------------------

  container.on('sender_open', (ctx: RheaContext) => {
    const link = ctx.sender!;
    const address = link.remote.attach?.source?.address ?? '';
    if (address === '$cbs' || /(^|\/)\$management$/i.test(address)) {
      link.set_source({ address });
      link.set_target(link.remote.attach?.target ?? null);
      let links = replyLinks.get(link.connection);
      if (!links) {
        links = new Map();
        replyLinks.set(link.connection, links);
      }
      links.set(link.name, link);
      const replyAddress = link.remote.attach?.target?.address;
      if (replyAddress) links.set(replyAddress, link);
      return;
    }
    openPartitionReceiver(link, address);
  });

  container.on('sendable', (ctx: RheaContext) => {
    const r = ctx.sender ? receiversByLink.get(ctx.sender) : undefined;
    if (r) pump(r);
  });

  container.on('receiver_open', (ctx: RheaContext) => {
    const link = ctx.receiver!;
    const address = link.remote.attach?.target?.address ?? '';
    link.set_target({ address });
    link.set_source(link.remote.attach?.source ?? null);
    link.local.attach.max_message_size = maxMessageSize;
    if (address === '$cbs' || /(^|\/)\$management$/i.test(address)) return;
    const entity = resolveEntity(address);
    if (!entity.ok) {
      link.close(entity.error);
      return;
    }
    if (entity.consumerGroup !== undefined) {
      link.close({ condition: 'amqp:not-allowed', description: 'Cannot send to a consumer group.' });
      return;
    }
    if (!isAuthorized(link.connection, address)) {
      link.close({
        condition: 'amqp:unauthorized-access',
        description: 'Unauthorized access. No valid token for this entity.',
      });
    }
  });

  container.on('message', (ctx: RheaContext) => {
    const link = ctx.receiver!;
    const address = link.remote.attach?.target?.address ?? '';
    if (address === '$cbs') {
      handleCbs(ctx.connection, ctx.message as RheaMessage);
      ctx.delivery?.accept();
    } else if (/(^|\/)\$management$/i.test(address)) {
      handleManagement(ctx.connection, ctx.message as RheaMessage);
      ctx.delivery?.accept();
    } else {
      onEventMessage(ctx, address);
    }
  });

  const onLinkGone = (ctx: RheaContext) => {
    const r = ctx.sender ? receiversByLink.get(ctx.sender) : undefined;
    if (r) removeReceiver(r);
  };
  container.on('sender_close', (ctx: RheaContext) => {
    onLinkGone(ctx);
    if (ctx.sender && !ctx.sender.is_closed()) ctx.sender.close();
  });
  container.on('receiver_close', (ctx: RheaContext) => {
    if (ctx.receiver && !ctx.receiver.is_closed()) ctx.receiver.close();
  });
  const dropConnectionReceivers = (connection: RheaConnection) => {
    for (const set of receiversByPartition.values()) {
      for (const r of set) if (r.link.connection === connection) removeReceiver(r);
    }
  };
  container.on('session_close', (ctx: RheaContext) => {
    const session = ctx.session as unknown as { close(): void; is_closed(): boolean } | undefined;
    for (const set of receiversByPartition.values()) {
      for (const r of set) if ((r.link.session as unknown) === session) removeReceiver(r);
    }
    if (session && !session.is_closed()) session.close();
  });
  container.on('connection_close', (ctx: RheaContext) => dropConnectionReceivers(ctx.connection));
  container.on('disconnected', (ctx: RheaContext) => dropConnectionReceivers(ctx.connection));
  container.on('error', (err: unknown) => log(`amqp error: ${String(err)}`));
  // Protocol errors from one client must not take the server down.
  container.on('connection_error', () => {});
  container.on('sender_error', () => {});
  container.on('receiver_error', () => {});
  container.on('session_error', () => {});

  const sockets = new Set<Socket>();
  const server = container.listen({ port: options.port ?? 0, host }) as unknown as Server;
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.setNoDelay(true);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  port = (server.address() as AddressInfo).port;

  const retentionTimer = setInterval(() => {
    for (const hub of hubs.values()) for (const p of hub.partitions) p.applyRetention(now());
  }, 1000);
  retentionTimer.unref();

  let closing: Promise<void> | undefined;
  return {
    port,
    host,
    connectionString(hub?: string): string {
      const base = `Endpoint=sb://${host}:${port};SharedAccessKeyName=${keyName};SharedAccessKey=${key};UseDevelopmentEmulator=true`;
      return hub === undefined ? base : `${base};EntityPath=${hub}`;
    },
    close(): Promise<void> {
      closing ??= new Promise<void>((resolve) => {
        clearInterval(retentionTimer);
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      }).then(() => {
        for (const hub of hubs.values()) for (const p of hub.partitions) p.close();
      });
      return closing;
    },
  };
}
