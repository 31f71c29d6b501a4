import {
  AgentReplayResponse,
  parseOrThrow,
  ReplayRun,
  type TopicConfig,
  topicEndpointProblems,
  ValidationError,
} from '@hubcap/shared';
import pkg from '../../package.json' with { type: 'json' };
import {
  destination,
  pathLayout,
  SERVICE,
  segmentLimits,
  sinkObserver,
  sourceCredential,
  startTopicFormat,
  untilVerified,
} from '../agent.ts';
import { completenessFor } from '../completeness/index.ts';
import { ConfigError, loadConfig } from '../config.ts';
import type { Env } from '../env.ts';
import { countInMetrics, FlushedFiles, logWritten } from '../ingest/flushed-files.ts';
import type { ControlPlaneClient } from '../report/control-plane-client.ts';
import { HttpServer } from '../runtime/http-server.ts';
import type { Lifecycle } from '../runtime/lifecycle.ts';
import type { Logger } from '../runtime/logger.ts';
import { createMetrics } from '../runtime/metrics.ts';
import { AgentStatus } from '../runtime/status.ts';
import { createReaderClient } from '../source/event-hubs.ts';
import { runReplay } from './replay.ts';

/** The replay's window and the topic's config: from the control plane, or for a hand run from env. */
async function loadReplay(
  env: Env,
  controlPlane: ControlPlaneClient | undefined,
): Promise<{ run: ReplayRun; config: TopicConfig }> {
  if (env.HUBCAP_REPLAY_ID) {
    if (!controlPlane)
      throw new ConfigError('HUBCAP_REPLAY_ID needs HUBCAP_CONTROL_PLANE_URL and HUBCAP_AGENT_TOKEN');
    const subject = `replay ${env.HUBCAP_REPLAY_ID} from ${env.HUBCAP_CONTROL_PLANE_URL}`;
    const response = parseOrThrow(
      AgentReplayResponse,
      await controlPlane.fetchReplay(env.HUBCAP_REPLAY_ID),
      subject,
    );
    return { run: response.replay, config: response.config };
  }
  let json: unknown;
  try {
    json = JSON.parse(env.HUBCAP_REPLAY ?? '');
  } catch (error) {
    throw new ConfigError(`HUBCAP_REPLAY is not valid JSON (${(error as Error).message})`);
  }
  const run = parseOrThrow(ReplayRun, json, 'HUBCAP_REPLAY');
  const { config } = await loadConfig(env, () => undefined);
  return { run, config };
}

/**
 * A replay run (HUBCAP_REPLAY_ID or HUBCAP_REPLAY): a one-off process that lands one window of the
 * topic's events and exits 0 when every partition's range is landed. Its checkpoints and staging data
 * live under `<topic>/replays/<id>`: a restarted run resumes there, and the live agents' checkpoints
 * and ownership are never read or written.
 */
export async function replayMain(
  lifecycle: Lifecycle,
  env: Env,
  log: Logger,
  controlPlane: ControlPlaneClient | undefined,
  agentId: string,
): Promise<void> {
  let loaded: { run: ReplayRun; config: TopicConfig };
  try {
    loaded = await loadReplay(env, controlPlane);
    const problems = topicEndpointProblems(loaded.config, env.HUBCAP_ALLOWED_ENDPOINTS);
    if (problems.length > 0)
      throw new ConfigError(
        'the replay config is refused',
        problems.map((p) => `${p.field}: ${p.message}`),
      );
  } catch (error) {
    if (error instanceof ConfigError || error instanceof ValidationError) {
      process.stderr.write(`${SERVICE}: ${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
  const { run } = loaded;
  // The replay's reader may use a group of its own (see ReplayRun.consumerGroup).
  const config = run.consumerGroup
    ? { ...loaded.config, source: { ...loaded.config.source, consumerGroup: run.consumerGroup } }
    : loaded.config;
  const replayLog = log.child({ topic: config.topic, replay: run.id, agentId });
  lifecycle.useLog(replayLog);
  replayLog.info({ from: run.from, to: run.to, target: run.target, version: pkg.version }, 'starting replay');
  const status = new AgentStatus();
  const metrics = createMetrics(() => status.ready);
  const http = new HttpServer(status, metrics.registry);
  await http.listen(env.HUBCAP_HTTP_PORT);
  const abort = new AbortController();
  const signal = AbortSignal.any([abort.signal, lifecycle.signal]);
  const dest = destination(config, env, sinkObserver(status, metrics, replayLog), {
    key: `${config.topic}/replays/${run.id}`,
    legacy: false,
  });
  const flushed = new FlushedFiles(config.format.type, [countInMetrics(metrics), logWritten(replayLog)]);
  const format = await startTopicFormat(config, dest, {
    env,
    agentId,
    status,
    log: replayLog,
    metrics,
    flushed,
  });
  const client = createReaderClient(config, sourceCredential(config));
  const release = async () => {
    abort.abort();
    await client.close().catch(() => {});
    format.close();
    await dest.sink.close();
    await http.close();
  };
  // A stop (cancel, node drain) leaves the landed files checkpointed: the next run resumes after them.
  lifecycle.onShutdown(release);
  if (!(await untilVerified('sink', () => dest.prepare(signal), status, replayLog, signal))) return;
  const own = pathLayout(config, format.extension);
  const layout = run.target.kind === 'prefix' ? { ...own, prefix: run.target.prefix } : own;
  const result = await runReplay({
    run,
    config,
    client,
    consumerGroup: config.source.consumerGroup,
    checkpoints: dest.checkpointStore,
    sink: dest.sink,
    format,
    layout,
    completeness: completenessFor({ config, layout, sink: dest.sink, client }),
    limits: segmentLimits(config),
    receive: {
      maxBatchSize: env.HUBCAP_MAX_BATCH_SIZE,
      maxWaitTimeInSeconds: env.HUBCAP_MAX_WAIT_SECONDS,
      prefetchCount: env.HUBCAP_PREFETCH_COUNT,
    },
    log: replayLog,
    metrics,
    status,
    signal,
    onFlushed: flushed.emit,
    report: async (progress) => {
      if (controlPlane) await controlPlane.reportReplay(progress);
    },
    reportEveryMs: config.reporting.intervalSeconds * 1000,
    pauseAfterCommitMs: env.HUBCAP_TEST_PAUSE_AFTER_COMMIT_MS,
  });
  replayLog.info({ partitions: result.partitions }, 'replay finished');
  await release();
  process.exit(0);
}
