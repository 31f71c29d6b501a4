import { join } from 'node:path';
import type { CheckpointStore } from '@azure/event-hubs';
import { DefaultAzureCredential, type TokenCredential } from '@azure/identity';
import { memoryBytes, type TopicConfig, timeBoundary, ValidationError, windowLayout } from '@hubcap/shared';
import pkg from '../package.json' with { type: 'json' };
import { FileCheckpointStore } from './checkpoint/file-checkpoint-store.ts';
import { TopicCheckpointStore } from './checkpoint/topic-checkpoint-store.ts';
import { ConfigError, type LoadedConfig, loadConfig } from './config.ts';
import { ConfigWatcher } from './config-watcher.ts';
import { defaultAgentId, type Env, readEnv } from './env.ts';
import type { FormatStart } from './formats/format.ts';
import { type StartedFormat, type StateLocation, startFormat } from './formats/index.ts';
import { countInMetrics, FlushedFiles, logWritten, recordInStatus } from './ingest/flushed-files.ts';
import { Ingestor } from './ingest/ingestor.ts';
import type { PathLayout } from './pipeline/paths.ts';
import type { SegmentLimits } from './pipeline/segment-policy.ts';
import { createControlPlaneClient } from './report/control-plane-client.ts';
import { ReportBuilder, Reporter, type ReportIdentity } from './report/reporter.ts';
import { backoffDelay, sleepUnlessAborted } from './runtime/backoff.ts';
import { HttpServer } from './runtime/http-server.ts';
import type { Lifecycle } from './runtime/lifecycle.ts';
import { createLogger, type Logger, scrubSecrets } from './runtime/logger.ts';
import { createMetrics, type Metrics } from './runtime/metrics.ts';
import { AgentStatus } from './runtime/status.ts';
import { processUsage } from './runtime/usage.ts';
import { AzureBlobSink, blobServiceClient, ensureContainer } from './sink/azure-blob-sink.ts';
import { classifyStorageError } from './sink/errors.ts';
import { LocalFolderSink } from './sink/local-folder-sink.ts';
import type { Sink, SinkObserver } from './sink/sink.ts';
import { blobCheckpointStore, createConsumerClient } from './source/event-hubs.ts';

export const SERVICE = 'hubcap-agent';

/** Prints a user mistake as plain lines (no stack trace) and exits. */
function exitWithConfigError(error: ConfigError | ValidationError): never {
  process.stderr.write(`${SERVICE}: ${error.message}\n`);
  process.exit(2);
}

export function credentialFor(clientId: string | undefined): () => TokenCredential {
  let credential: TokenCredential | undefined;
  return () => {
    credential ??= new DefaultAzureCredential(
      clientId ? { managedIdentityClientId: clientId, workloadIdentityClientId: clientId } : {},
    );
    return credential;
  };
}

/** The credential of the topic's source when it signs in with an identity, made on first use. */
export function sourceCredential(config: TopicConfig): () => TokenCredential {
  const { auth } = config.source;
  return credentialFor(auth.kind === 'workloadIdentity' ? auth.clientId : undefined);
}

/** The topic's format, started for one pipeline (the live agent's or a replay's) writing to `dest`. */
export function startTopicFormat(
  config: TopicConfig,
  dest: Destination,
  parts: Pick<FormatStart, 'env' | 'agentId' | 'status' | 'log' | 'metrics' | 'flushed'>,
): Promise<StartedFormat> {
  return startFormat({
    ...parts,
    topic: config,
    state: dest.state,
    credential: (clientId) => credentialFor(clientId)(),
  });
}

export function sinkObserver(status: AgentStatus, metrics: Metrics, log: Logger): SinkObserver {
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

export interface Destination {
  sink: Sink;
  checkpointStore: CheckpointStore;
  /** Where state beside the checkpoints goes (a format's, e.g. Parquet's running schema). */
  state: StateLocation;
  prepare(signal: AbortSignal): Promise<void>;
}

/**
 * Where a pipeline writes. `scope` keys its checkpoints and staging data: the topic's own for its live
 * agents, a replay's own (`<topic>/replays/<id>`) for a replay, which never reads or moves the live ones.
 */
export function destination(
  config: TopicConfig,
  env: Env,
  observer: SinkObserver,
  scope: { key: string; legacy: boolean } = { key: config.topic, legacy: true },
): Destination {
  const d = config.destination;
  if (d.kind === 'localFolder') {
    const sink = new LocalFolderSink(d.path);
    return {
      sink,
      checkpointStore: new TopicCheckpointStore(
        new FileCheckpointStore(join(d.path, '.hubcap', 'checkpoints')),
        scope.key,
        scope,
      ),
      state: { kind: 'folder', path: d.path },
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
    stagingPrefix: `staging/${scope.key}`,
    tokenCredential,
    blockBytes: env.HUBCAP_BLOCK_BYTES,
    observer,
  });
  return {
    sink,
    checkpointStore: new TopicCheckpointStore(blobCheckpointStore(checkpoints), scope.key, scope),
    state: { kind: 'container', container: checkpoints },
    async prepare(signal) {
      await ensureContainer(container, 'destination', env.HUBCAP_CREATE_CONTAINERS, signal);
      await ensureContainer(checkpoints, 'checkpoint', env.HUBCAP_CREATE_CONTAINERS, signal);
      await sink.verify(signal);
    },
  };
}

/** The topic's own layout of files. */
export function pathLayout(config: TopicConfig, extension: string): PathLayout {
  const { prefix, template, namespace, hub, topic } = windowLayout(config);
  return { prefix, template, namespace, hub, topic, extension };
}

export function segmentLimits(config: TopicConfig): SegmentLimits {
  return {
    maxBytes: config.batching.maxBytes,
    maxEvents: config.batching.maxEvents,
    maxAgeMs: config.batching.maxAgeSeconds * 1000,
    boundary: timeBoundary(config.pathTemplate),
  };
}

/** Retries `check` until it passes: the agent stays up, not ready, and says why. */
export async function untilVerified(
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

/** What outlives a config switch: the process's logger, metrics, status, HTTP server and reporter. */
interface Shared {
  env: Env;
  agentId: string;
  log: Logger;
  metrics: Metrics;
  status: AgentStatus;
}

/**
 * One config's worth of ingestion: destination, format, source, ingestor, staging sweep. `stop()`
 * drains exactly as SIGTERM does (publish and checkpoint every open segment, within the drain
 * timeout) and releases everything, so the next pipeline starts from the checkpoints like a new
 * process would: files and checkpoints follow the same exactly-once rules across a config switch.
 */
class TopicPipeline {
  readonly #config: TopicConfig;
  readonly #s: Shared;
  readonly #log: Logger;
  readonly #abort = new AbortController();
  #started: Promise<void> | null = null;
  #stopped: Promise<{ drained: boolean }> | null = null;
  #ingestor: Ingestor | null = null;
  #dest: Destination | null = null;
  #format: StartedFormat | null = null;
  #sweepTimer: NodeJS.Timeout | null = null;
  #sweeping: Promise<void> | null = null;

  constructor(config: TopicConfig, shared: Shared, log: Logger) {
    this.#config = config;
    this.#s = shared;
    this.#log = log;
  }

  /** Resolves once ingesting, or once stopped before that. */
  start(): Promise<void> {
    this.#started ??= this.#start();
    return this.#started;
  }

  async #start(): Promise<void> {
    const config = this.#config;
    const { env, agentId, metrics, status } = this.#s;
    const agentLog = this.#log;
    const signal = this.#abort.signal;
    const dest = destination(config, env, sinkObserver(status, metrics, agentLog));
    this.#dest = dest;
    // Every published and checkpointed file: one line here per subscriber.
    const flushed = new FlushedFiles(config.format.type, [
      countInMetrics(metrics),
      logWritten(agentLog),
      recordInStatus(status),
    ]);
    const format = await startTopicFormat(config, dest, {
      env,
      agentId,
      status,
      log: agentLog,
      metrics,
      flushed,
    });
    this.#format = format;

    if (!(await untilVerified('sink', () => dest.prepare(signal), status, agentLog, signal))) return;
    this.#startSweeping(dest.sink);
    const client = createConsumerClient(
      config,
      dest.checkpointStore,
      {
        agentId,
        updateIntervalMs: env.HUBCAP_LB_UPDATE_INTERVAL_MS,
        ownershipExpiryMs: env.HUBCAP_LB_OWNERSHIP_EXPIRY_MS,
      },
      sourceCredential(config),
    );
    this.#ingestor = new Ingestor({
      config,
      client,
      checkpointStore: dest.checkpointStore,
      sink: dest.sink,
      format,
      layout: pathLayout(config, format.extension),
      limits: segmentLimits(config),
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
      onFlushed: flushed.emit,
      memoryLimitBytes: memoryBytes(config.scaling.memory),
    });
    if (
      !(await untilVerified(
        'source',
        () => client.getPartitionIds({ abortSignal: signal }),
        status,
        agentLog,
        signal,
      ))
    )
      return;
    if (signal.aborted) return;
    this.#ingestor.start();
    const { extension, spillsToDisk, deadLetters } = format;
    agentLog.info({ extension, spillsToDisk, deadLetters }, 'ingesting');
  }

  /**
   * Staging data left by killed agents, removed at start and then periodically. A staging blob of a
   * live replica is filled while its segment is open (bounded by the segment max age; a replayed
   * segment's events are already in the hub) and removed right after its publish, so the default
   * threshold — 10 × the max age, at least a day (other replicas may run a longer max age during a
   * rollout; uncommitted blocks cost nothing meanwhile) — leaves every live one alone. Were a live one
   * removed anyway (a writer stalled longer than that), its commit or copy fails and keeps failing
   * (retried and reported; the blocks are gone): nothing reaches the lake, and after a restart the
   * segment is replayed from its checkpoint — never published twice or in part.
   */
  #startSweeping(sink: Sink): void {
    const { env, metrics } = this.#s;
    const afterSeconds =
      env.HUBCAP_STAGING_SWEEP_AFTER_SECONDS ?? Math.max(86_400, 10 * this.#config.batching.maxAgeSeconds);
    const signal = this.#abort.signal;
    const sweep = () => {
      if (this.#sweeping || signal.aborted) return;
      this.#sweeping = sink
        .sweepStaging(new Date(Date.now() - afterSeconds * 1000), signal)
        .then(
          (removed) => {
            if (removed.length === 0) return;
            metrics.stagingSwept.inc(removed.length);
            this.#log.info(
              { removed: removed.length, names: removed.slice(0, 20), olderThanSeconds: afterSeconds },
              'removed staging data left by stopped agents',
            );
          },
          (error: Error) => {
            if (signal.aborted) return;
            this.#log.warn(
              { error: scrubSecrets(error.message) },
              'staging sweep failed; it runs again at the next interval',
            );
          },
        )
        .finally(() => {
          this.#sweeping = null;
        });
    };
    sweep();
    this.#sweepTimer = setInterval(sweep, env.HUBCAP_STAGING_SWEEP_INTERVAL_SECONDS * 1000);
    this.#sweepTimer.unref();
  }

  /** Ordered, idempotent: stop starting → drain → release the source → staging sweep → format → sink. */
  stop(): Promise<{ drained: boolean }> {
    this.#stopped ??= (async () => {
      this.#abort.abort();
      await this.#started?.catch(() => {});
      const { drained } = (await this.#ingestor?.drain(this.#s.env.HUBCAP_DRAIN_TIMEOUT_MS)) ?? {
        drained: true,
      };
      await this.#ingestor?.close();
      if (this.#sweepTimer) clearInterval(this.#sweepTimer);
      await this.#sweeping;
      this.#format?.close();
      await this.#dest?.sink.close();
      return { drained };
    })();
    return this.#stopped;
  }
}

const aborted = (signal: AbortSignal) =>
  new Promise<null>((resolve) => {
    if (signal.aborted) resolve(null);
    else signal.addEventListener('abort', () => resolve(null), { once: true });
  });

/**
 * The composition root: env → config → shared parts (metrics, HTTP, reporter) → one pipeline per
 * config version. With the config from the control plane, a newer valid version is applied in
 * process: drain the running pipeline, start the next one.
 */
export async function runAgent(lifecycle: Lifecycle): Promise<void> {
  let env: Env;
  try {
    env = readEnv();
  } catch (error) {
    if (error instanceof ValidationError) exitWithConfigError(error);
    throw error;
  }
  const log = createLogger({ service: SERVICE, version: pkg.version, level: env.HUBCAP_LOG_LEVEL });
  lifecycle.useLog(log);
  const agentId = env.HUBCAP_AGENT_ID ?? defaultAgentId();
  if (env.HUBCAP_CONTROL_PLANE_URL && !env.HUBCAP_AGENT_TOKEN) {
    exitWithConfigError(new ConfigError('HUBCAP_CONTROL_PLANE_URL is set but HUBCAP_AGENT_TOKEN is not'));
  }
  const controlPlane =
    env.HUBCAP_CONTROL_PLANE_URL && env.HUBCAP_AGENT_TOKEN
      ? createControlPlaneClient({ url: env.HUBCAP_CONTROL_PLANE_URL, token: env.HUBCAP_AGENT_TOKEN })
      : undefined;
  if (env.HUBCAP_REPLAY_ID || env.HUBCAP_REPLAY) {
    const { replayMain } = await import('./replay/main.ts');
    return replayMain(lifecycle, env, log, controlPlane, agentId);
  }

  let loaded: LoadedConfig;
  try {
    loaded = await loadConfig(env, () => controlPlane, {
      signal: lifecycle.signal,
      onRetry: (error, attempt, delayMs) =>
        log.warn(
          { error: scrubSecrets(error.message), attempt, retryInMs: delayMs },
          'cannot fetch the config from the control plane yet; retrying',
        ),
    });
  } catch (error) {
    if (error instanceof ConfigError) exitWithConfigError(error);
    throw error;
  }
  const agentLog = log.child({ topic: loaded.config.topic, agentId });
  lifecycle.useLog(agentLog);
  agentLog.info(
    {
      configSource: loaded.source,
      configVersion: loaded.version,
      format: loaded.config.format,
      destination: loaded.config.destination.kind,
    },
    'starting',
  );

  const status = new AgentStatus();
  const metrics = createMetrics(() => status.ready);
  const shared: Shared = { env, agentId, log: agentLog, metrics, status };
  const http = new HttpServer(status, metrics.registry);
  const port = await http.listen(env.HUBCAP_HTTP_PORT);
  agentLog.info({ port }, 'http server listening (/healthz, /readyz, /metrics)');

  const identity: ReportIdentity = {
    agentId,
    topic: loaded.config.topic,
    agentVersion: pkg.version,
    configVersion: loaded.version,
  };
  const running = loaded.version;
  const watcher =
    controlPlane && running !== undefined
      ? new ConfigWatcher({
          fetch: () => controlPlane.fetchConfig(),
          running: { version: running, config: loaded.config },
          subject: loaded.source,
          onRejected(version, error) {
            metrics.configReloads.inc({ outcome: 'rejected' });
            status.recordError('config', error.message, false);
            identity.configIssue = { version, kind: 'rejected', reason: error.message.slice(0, 2000) };
            agentLog.error(
              { configVersion: version, problems: error.problems, running: watcher?.runningVersion },
              'new config version is invalid; the running config keeps going',
            );
          },
          onDeferred(version, reason) {
            identity.configIssue = { version, kind: 'awaitingRestart', reason };
            agentLog.info(
              { configVersion: version, running: watcher?.runningVersion, reason },
              'new config version needs a new process; it applies when the control plane restarts this replica',
            );
          },
          onFetchFailed(error) {
            agentLog.warn(
              { error: scrubSecrets(error.message) },
              'cannot fetch the new config version yet; retrying after the next report',
            );
          },
        })
      : undefined;
  const reporter = controlPlane
    ? new Reporter({
        client: controlPlane,
        builder: new ReportBuilder(status, identity),
        status,
        intervalMs: loaded.config.reporting.intervalSeconds * 1000,
        log: agentLog,
        metrics,
        onConfigVersion: (version) => {
          if (watcher) watcher.offer(version);
        },
      })
    : undefined;
  reporter?.start();

  let current: TopicPipeline | null = null;
  // Ordered, idempotent: drain the pipeline → last report → http.
  lifecycle.onShutdown(async () => {
    const { drained } = (await current?.stop()) ?? { drained: true };
    await reporter?.close();
    await http.close();
    agentLog.info({ drained, ...processUsage() }, 'stopped');
  });

  const stopped = aborted(lifecycle.signal);
  for (;;) {
    if (lifecycle.signal.aborted) return;
    const pipeline = new TopicPipeline(loaded.config, shared, agentLog);
    current = pipeline;
    pipeline.start().catch((error: unknown) => {
      process.stderr.write(`${SERVICE}: fatal: ${scrubSecrets(String((error as Error)?.stack ?? error))}\n`);
      process.exit(1);
    });
    const next = await Promise.race([watcher ? watcher.next() : stopped, stopped]);
    if (!next || lifecycle.signal.aborted) return; // the shutdown registered above stops the pipeline
    agentLog.info(
      { running: loaded.version, configVersion: next.version },
      'new config version: draining open segments to apply it',
    );
    const { drained } = await pipeline.stop();
    if (lifecycle.signal.aborted) return;
    const version = next.version as number;
    watcher?.applied({ ...next, version });
    identity.configVersion = version;
    delete identity.configIssue;
    reporter?.setIntervalMs(next.config.reporting.intervalSeconds * 1000);
    metrics.configReloads.inc({ outcome: 'applied' });
    agentLog.info({ configVersion: version, drained }, 'config applied; restarting ingestion');
    loaded = next;
  }
}
