import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/** The agent's Prometheus metrics; `isReady` is read at scrape time (the same answer as /readyz). */
export function createMetrics(isReady: () => boolean = () => false) {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'hubcap_' });
  const counter = <L extends string = never>(name: string, help: string, labelNames: readonly L[] = []) =>
    new Counter<L>({ name, help, labelNames, registers: [registry] });
  const gauge = <L extends string = never>(name: string, help: string, labelNames: readonly L[] = []) =>
    new Gauge<L>({ name, help, labelNames, registers: [registry] });
  const partition = ['partition'] as const;
  // Counted by the NDJSON encoder in a plain object (a labelled inc() per line costs too much), read at scrape time.
  const ndjsonStats = { rewritten: { 'json-whitespace': 0, string: 0, base64: 0 } };
  const reported = { ...ndjsonStats.rewritten };
  return {
    registry,
    ndjsonStats,
    ndjsonRewritten: new Counter({
      name: 'hubcap_ndjson_rewritten_bodies_total',
      help: 'NDJSON bodies rewritten to keep one event per line',
      labelNames: ['kind'] as const,
      registers: [registry],
      collect() {
        for (const kind of Object.keys(reported) as (keyof typeof reported)[]) {
          this.inc({ kind }, ndjsonStats.rewritten[kind] - reported[kind]);
          reported[kind] = ndjsonStats.rewritten[kind];
        }
      },
    }),
    eventsReceived: counter('hubcap_events_received_total', 'Events received from Event Hubs', partition),
    bytesReceived: counter('hubcap_bytes_received_total', 'Event body bytes received', partition),
    eventsWritten: counter('hubcap_events_written_total', 'Events in committed files', partition),
    bytesWritten: counter(
      'hubcap_bytes_written_total',
      'Encoded (compressed) bytes of committed files',
      partition,
    ),
    filesWritten: counter('hubcap_files_written_total', 'Files committed', partition),
    deadLettered: counter(
      'hubcap_dead_lettered_total',
      'Events written to dead-letter files (committed), by reason',
      ['partition', 'reason'] as const,
    ),
    flushSeconds: new Histogram({
      name: 'hubcap_flush_duration_seconds',
      help: 'From the flush decision to the checkpoint of a file',
      labelNames: ['reason'] as const,
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
      registers: [registry],
    }),
    lagEvents: gauge('hubcap_partition_lag_events', 'Events enqueued but not yet checkpointed', partition),
    lagSeconds: gauge(
      'hubcap_partition_lag_seconds',
      'Age of the oldest event not yet checkpointed',
      partition,
    ),
    ownedPartitions: gauge('hubcap_owned_partitions', 'Partitions this replica currently processes'),
    errors: counter('hubcap_errors_total', 'Errors by kind', ['kind'] as const),
    retries: counter(
      'hubcap_storage_retries_total',
      'Storage operations retried, by operation and error kind',
      ['operation', 'kind'] as const,
    ),
    discarded: counter(
      'hubcap_segments_discarded_total',
      'Open segments dropped without commit (replayed by the next owner)',
      ['reason'] as const,
    ),
    stagingSwept: counter(
      'hubcap_staging_swept_total',
      'Staging blobs or temp files left by killed agents and removed',
    ),
    configReloads: counter(
      'hubcap_config_reloads_total',
      'New config versions offered by the control plane: applied, or rejected as invalid',
      ['outcome'] as const,
    ),
    ready: new Gauge({
      name: 'hubcap_ready',
      help: '1 when ready',
      registers: [registry],
      collect() {
        this.set(isReady() ? 1 : 0);
      },
    }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
