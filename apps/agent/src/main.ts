#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CheckpointStore } from '@azure/event-hubs';
import { DefaultAzureCredential, type TokenCredential } from '@azure/identity';
import { namespaceName, type TopicConfig, timeBoundary, ValidationError } from '@hubcap/shared';
import { Counter } from 'prom-client';
import pkg from '../package.json' with { type: 'json' };
import { FileCheckpointStore } from './checkpoint/file-checkpoint-store.ts';
import {
  BlobSchemaStateStore,
  FileSchemaStateStore,
  type SchemaStateStore,
} from './checkpoint/schema-store.ts';
import { ConfigError, loadConfig } from './config.ts';
import { defaultAgentId, type Env, readEnv } from './env.ts';
import { Ingestor } from './ingest/ingestor.ts';
import { DuckDbEngine } from './pipeline/duckdb.ts';
import { createFileFormat } from './pipeline/format.ts';
import { newNdjsonStats } from './pipeline/ndjson.ts';
import { diffFields, SchemaTracker, type SchemaVersion } from './pipeline/schema-tracker.ts';
import { RegistryAvroDecoder, schemaRegistryClient } from './registry/avro-decoder.ts';
import { createControlPlaneClient } from './report/control-plane-client.ts';
import { ReportBuilder, Reporter } from './report/reporter.ts';
import { backoffDelay, sleepUnlessAborted } from './runtime/backoff.ts';
import { HttpServer } from './runtime/http-server.ts';
import { createLogger, type Logger, scrubSecrets } from './runtime/logger.ts';
import { createMetrics, type Metrics } from './runtime/metrics.ts';
import { AgentStatus } from './runtime/status.ts';
import { AzureBlobSink, blobServiceClient } from './sink/azure-blob-sink.ts';
import { classifyStorageError } from './sink/errors.ts';
import { LocalFolderSink } from './sink/local-folder-sink.ts';
import type { Sink, SinkObserver } from './sink/sink.ts';
import { blobCheckpointStore, createConsumerClient } from './source/event-hubs.ts';

const SERVICE = 'hubcap-agent';

/** Peak RSS of this process (VmHWM); ru_maxrss would include a forking parent's peak. */
function peakRss(): number | undefined {
  try {
    const kb = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1];
    return kb ? Number(kb) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** Prints a user mistake as plain lines (no stack trace) and exits. */
function exitWithConfigError(error: ConfigError | ValidationError): never {
  process.stderr.write(`${SERVICE}: ${error.message}\n`);
  process.exit(2);
}

function credentialFor(clientId: string | undefined): () => TokenCredential {
  let credential: TokenCredential | undefined;
  return () => {
    credential ??= new DefaultAzureCredential(
      clientId ? { managedIdentityClientId: clientId, workloadIdentityClientId: clientId } : {},
    );
    return credential;
  };
}

function sinkObserver(status: AgentStatus, metrics: Metrics, log: Logger): SinkObserver {
  return {
    onError(operation, info, attempt) {
      metrics.retries.inc({ operation, kind: info.kind });
      metrics.errors.inc({ kind: 'sink' });
      status.recordError('sink', `${operation}: ${info.message}`, info.retryable);
      if (info.fatal) status.setFatal('sink', `${operation}: ${info.message}`);
      log[attempt < 3 && !info.fatal ? 'warn' : 'error'](
        { operation, kind: info.kind, attempt, error: info.message },
        'storage operation failed; retrying',
      );
    },
    onSuccess() {
      status.clearFatal('sink');
    },
  };
}

interface Destination {
  sink: Sink;
  checkpointStore: CheckpointStore;
  /** Parquet: the topic's running schema, beside the checkpoints. */
  schemaStore: SchemaStateStore;
  prepare(signal: AbortSignal): Promise<void>;
}

function destination(config: TopicConfig, env: Env, observer: SinkObserver): Destination {
  const d = config.destination;
  const { fullyQualifiedNamespace, eventHubName, consumerGroup } = config.source;
  const schemaKey = { topic: config.topic, fullyQualifiedNamespace, eventHubName, consumerGroup };
  if (d.kind === 'localFolder') {
    const sink = new LocalFolderSink(d.path);
    return {
      sink,
      checkpointStore: new FileCheckpointStore(join(d.path, '.hubcap', 'checkpoints')),
      schemaStore: new FileSchemaStateStore(join(d.path, '.hubcap'), schemaKey),
      prepare: () => sink.verify(),
    };
  }
  const tokenCredential =
    d.account.kind === 'workloadIdentity' ? credentialFor(d.account.clientId)() : undefined;
  const service = blobServiceClient(
    d.account.kind === 'connectionString'
      ? { kind: 'connectionString', connectionString: d.account.connectionString }
      : { kind: 'token', accountUrl: d.account.accountUrl, credential: tokenCredential! },
  );
  const container = service.getContainerClient(d.container);
  const checkpoints = service.getContainerClient(d.checkpointContainer);
  const sink = new AzureBlobSink({
    container,
    stagingContainer: checkpoints,
    stagingPrefix: `staging/${config.topic}`,
    tokenCredential,
    blockBytes: env.HUBCAP_BLOCK_BYTES,
    observer,
  });
  return {
    sink,
    checkpointStore: blobCheckpointStore(checkpoints),
    schemaStore: new BlobSchemaStateStore(checkpoints, schemaKey),
    async prepare(signal) {
      if (env.HUBCAP_CREATE_CONTAINERS) {
        await container.createIfNotExists({ abortSignal: signal });
        await checkpoints.createIfNotExists({ abortSignal: signal });
      }
      await sink.verify(signal);
    },
  };
}

/** Retries `check` until it passes: the agent stays up, not ready, and says why. */
async function untilVerified(
  what: 'sink' | 'source',
  check: () => Promise<unknown>,
  status: AgentStatus,
  log: Logger,
  signal: AbortSignal,
): Promise<boolean> {
  for (let attempt = 0; !signal.aborted; attempt++) {
    try {
      await check();
      status.setCheck(what, true);
      status.clearFatal(what);
      log.info(`${what} verified`);
      return true;
    } catch (error) {
      const info = classifyStorageError(error);
      const message = scrubSecrets(info.message);
      status.setFatal(what, message);
      status.recordError(what, message, true);
      log.error({ error: message, kind: info.kind, attempt }, `${what} not usable yet; retrying`);
      await sleepUnlessAborted(
        Math.max(1000, backoffDelay(attempt, { baseMs: 1000, maxMs: 30_000 })),
        signal,
      );
    }
  }
  return false;
}

async function main(): Promise<void> {
  let env: Env;
  try {
    env = readEnv();
  } catch (error) {
    if (error instanceof ValidationError) exitWithConfigError(error);
    throw error;
  }
  const log = createLogger({ service: SERVICE, version: pkg.version, level: env.HUBCAP_LOG_LEVEL });
  const agentId = env.HUBCAP_AGENT_ID ?? defaultAgentId();
  if (env.HUBCAP_CONTROL_PLANE_URL && !env.HUBCAP_AGENT_TOKEN) {
    exitWithConfigError(new ConfigError('HUBCAP_CONTROL_PLANE_URL is set but HUBCAP_AGENT_TOKEN is not'));
  }
  const controlPlane =
    env.HUBCAP_CONTROL_PLANE_URL && env.HUBCAP_AGENT_TOKEN
      ? createControlPlaneClient({ url: env.HUBCAP_CONTROL_PLANE_URL, token: env.HUBCAP_AGENT_TOKEN })
      : undefined;

  let loaded: Awaited<ReturnType<typeof loadConfig>>;
  try {
    loaded = await loadConfig(env, () => controlPlane);
  } catch (error) {
    if (error instanceof ConfigError) exitWithConfigError(error);
    throw error;
  }
  const { config } = loaded;
  const agentLog = log.child({ topic: config.topic, agentId });
  agentLog.info(
    {
      configSource: loaded.source,
      configVersion: loaded.version,
      format: config.format,
      destination: config.destination.kind,
    },
    'starting',
  );

  const metrics = createMetrics();
  const status = new AgentStatus();
  const dest = destination(config, env, sinkObserver(status, metrics, agentLog));
  const ndjsonStats = newNdjsonStats();
  const reported = { 'json-whitespace': 0, string: 0, base64: 0 };
  new Counter({
    name: 'hubcap_ndjson_rewritten_bodies_total',
    help: 'NDJSON bodies rewritten to keep one event per line',
    labelNames: ['kind'] as const,
    registers: [metrics.registry],
    collect() {
      for (const kind of Object.keys(reported) as (keyof typeof reported)[]) {
        this.inc({ kind }, ndjsonStats.rewritten[kind] - reported[kind]);
        reported[kind] = ndjsonStats.rewritten[kind];
      }
    },
  });
  let engine: DuckDbEngine | undefined;
  let tracker: SchemaTracker | undefined;
  /** Schema versions started but not yet in a committed file (reported once their first file is). */
  const unreported = new Map<string, SchemaVersion>();
  if (config.format.type === 'parquet') {
    engine = await DuckDbEngine.create({
      spillDir: env.HUBCAP_SPILL_DIR,
      threads: env.HUBCAP_DUCKDB_THREADS,
      memoryLimit: env.HUBCAP_DUCKDB_MEMORY_LIMIT,
    });
    tracker = new SchemaTracker({
      store: dest.schemaStore,
      topic: config.topic,
      agentId,
      onStoreError(error, attempt) {
        const message = scrubSecrets((error as Error).message);
        status.recordError('checkpoint', message, true);
        if (attempt >= 2) status.setFatal('schema-state', message);
        agentLog[attempt < 3 ? 'warn' : 'error'](
          { error: message, attempt },
          'schema state not saved yet; retrying',
        );
      },
      onStoreSuccess: () => status.clearFatal('schema-state'),
      onUnreadableState(error, keptAs) {
        status.recordError('checkpoint', `${error.message}; kept as ${keptAs} and replaced`, true);
        agentLog.error(
          { error: error.message, keptAs },
          'stored schema state is unreadable; kept a copy and replaced it with this replica’s schema',
        );
      },
      onVersion: (version, previous) => {
        unreported.set(version.fingerprint, version);
        const diff = previous ? diffFields(previous.fields, version.fields) : null;
        agentLog.info(
          {
            schemaVersion: version.number,
            fingerprint: version.fingerprint,
            fields: version.fields.length,
            ...(diff
              ? {
                  added: diff.added.map((f) => f.path),
                  widened: diff.changed.map((c) => `${c.path}: ${c.from} → ${c.to}`),
                }
              : {}),
          },
          previous ? 'schema changed; the next files carry the new columns' : 'first schema',
        );
      },
    });
  }
  const registry = config.format.type === 'parquet' ? config.format.schemaRegistry : undefined;
  const decoder =
    registry &&
    new RegistryAvroDecoder({
      client: schemaRegistryClient({
        fullyQualifiedNamespace: registry.fullyQualifiedNamespace,
        credential: credentialFor(registry.clientId)(),
      }),
      ...(registry.groupName ? { groupName: registry.groupName } : {}),
      onRegistryError(error, attempt) {
        const message = scrubSecrets(error.message);
        status.recordError('encoding', message, true);
        if (attempt >= 1) status.setFatal('schema-registry', message);
        agentLog[attempt < 3 ? 'warn' : 'error'](
          { error: message, attempt },
          'schema registry not reachable; events wait (none is dead-lettered for an outage)',
        );
      },
      onRegistryOk: () => status.clearFatal('schema-registry'),
    });
  const format = createFileFormat(config.format, {
    ndjsonStats,
    ...(engine && tracker
      ? {
          parquet: {
            engine,
            tracker,
            maxBodyBytes: env.HUBCAP_MAX_BODY_BYTES,
            ...(decoder ? { decoder } : {}),
          },
        }
      : {}),
  });
  const http = new HttpServer(status, metrics.registry);
  const port = await http.listen(env.HUBCAP_HTTP_PORT);
  agentLog.info({ port }, 'http server listening (/healthz, /readyz, /metrics)');

  const stopping = new AbortController();
  let shutdown: (() => Promise<void>) | null = null;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping.signal.aborted) {
      agentLog.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    agentLog.info({ signal }, 'stopping: draining open segments');
    stopping.abort();
    const done = shutdown ? shutdown() : http.close();
    done.then(
      () => process.exit(0),
      (error: Error) => {
        agentLog.error({ error: error.message }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);

  const reporter = controlPlane
    ? new Reporter({
        client: controlPlane,
        builder: new ReportBuilder(status, {
          agentId,
          topic: config.topic,
          agentVersion: pkg.version,
          configVersion: loaded.version,
        }),
        status,
        intervalMs: config.reporting.intervalSeconds * 1000,
        log: agentLog,
        metrics,
        onConfigVersion: (version) => {
          if (loaded.version !== undefined && version !== loaded.version) {
            agentLog.info(
              { running: loaded.version, latest: version },
              'a newer config exists; it applies on the next restart',
            );
          }
        },
      })
    : undefined;
  reporter?.start();
  shutdown = async () => {
    await reporter?.close();
    await dest.sink.close();
    await http.close();
  };

  if (!(await untilVerified('sink', () => dest.prepare(stopping.signal), status, agentLog, stopping.signal)))
    return;
  const client = createConsumerClient(
    config,
    dest.checkpointStore,
    {
      agentId,
      updateIntervalMs: env.HUBCAP_LB_UPDATE_INTERVAL_MS,
      ownershipExpiryMs: env.HUBCAP_LB_OWNERSHIP_EXPIRY_MS,
    },
    credentialFor(config.source.auth.kind === 'workloadIdentity' ? config.source.auth.clientId : undefined),
  );
  const ingestor = new Ingestor({
    config,
    client,
    checkpointStore: dest.checkpointStore,
    sink: dest.sink,
    format,
    layout: {
      prefix: config.destination.kind === 'azureBlob' ? config.destination.prefix : '',
      template: config.pathTemplate,
      namespace: namespaceName(config.source.fullyQualifiedNamespace),
      hub: config.source.eventHubName,
      topic: config.topic,
      extension: format.extension,
    },
    limits: {
      maxBytes: config.batching.maxBytes,
      maxEvents: config.batching.maxEvents,
      maxAgeMs: config.batching.maxAgeSeconds * 1000,
      boundary: timeBoundary(config.pathTemplate),
    },
    agentId,
    log: agentLog,
    metrics,
    status,
    receive: {
      maxBatchSize: env.HUBCAP_MAX_BATCH_SIZE,
      maxWaitTimeInSeconds: env.HUBCAP_MAX_WAIT_SECONDS,
      prefetchCount: env.HUBCAP_PREFETCH_COUNT,
    },
    pauseAfterCommitMs: env.HUBCAP_TEST_PAUSE_AFTER_COMMIT_MS,
    onFlushed: (file) => {
      const version = file.result.schema && unreported.get(file.result.schema.fingerprint);
      if (!version) return;
      unreported.delete(version.fingerprint);
      status.schemas.push({
        fingerprint: version.fingerprint,
        fields: version.fields,
        firstSeenAt: version.firstSeenAt.toISOString(),
        path: file.path,
        partitionId: file.partitionId,
      });
    },
  });
  // Ordered, idempotent: stop taking events and drain → release the source → last report → sink → http.
  shutdown = async () => {
    const { drained } = await ingestor.drain(env.HUBCAP_DRAIN_TIMEOUT_MS);
    await ingestor.close();
    decoder?.close();
    tracker?.close();
    engine?.close();
    await reporter?.close();
    await dest.sink.close();
    await http.close();
    const usage = process.resourceUsage();
    agentLog.info(
      {
        drained,
        cpuSeconds: (usage.userCPUTime + usage.systemCPUTime) / 1e6,
        maxRssBytes: peakRss(),
      },
      'stopped',
    );
  };
  if (!(await untilVerified('source', () => client.getPartitionIds(), status, agentLog, stopping.signal)))
    return;
  if (stopping.signal.aborted) return;
  ingestor.start();
  agentLog.info('ingesting');
}

process.on('unhandledRejection', (error) => {
  process.stderr.write(
    `${SERVICE}: unhandled rejection: ${scrubSecrets(String((error as Error)?.stack ?? error))}\n`,
  );
  process.exit(1);
});

main().catch((error: unknown) => {
  process.stderr.write(`${SERVICE}: fatal: ${scrubSecrets(String((error as Error)?.stack ?? error))}\n`);
  process.exit(1);
});
