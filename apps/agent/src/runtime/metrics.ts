import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'hubcap_' });
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
    eventsReceived: new Counter({
      name: 'hubcap_events_received_total',
      help: 'Events received from Event Hubs',
      labelNames: partition,
      registers: [registry],
    }),
    bytesReceived: new Counter({
      name: 'hubcap_bytes_received_total',
      help: 'Event body bytes received',
      labelNames: partition,
      registers: [registry],
    }),
    eventsWritten: new Counter({
      name: 'hubcap_events_written_total',
      help: 'Events in committed files',
      labelNames: partition,
      registers: [registry],
    }),
    bytesWritten: new Counter({
      name: 'hubcap_bytes_written_total',
      help: 'Encoded (compressed) bytes of committed files',
      labelNames: partition,
      registers: [registry],
    }),
    filesWritten: new Counter({
      name: 'hubcap_files_written_total',
      help: 'Files committed',
      labelNames: partition,
      registers: [registry],
    }),
    deadLettered: new Counter({
      name: 'hubcap_dead_lettered_total',
      help: 'Events written to dead-letter files (committed), by reason',
      labelNames: ['partition', 'reason'] as const,
      registers: [registry],
    }),
    flushSeconds: new Histogram({
      name: 'hubcap_flush_duration_seconds',
      help: 'From the flush decision to the checkpoint of a file',
      labelNames: ['reason'] as const,
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
      registers: [registry],
    }),
    lagEvents: new Gauge({
      name: 'hubcap_partition_lag_events',
      help: 'Events enqueued but not yet checkpointed',
      labelNames: partition,
      registers: [registry],
    }),
    lagSeconds: new Gauge({
      name: 'hubcap_partition_lag_seconds',
      help: 'Age of the oldest event not yet checkpointed',
      labelNames: partition,
      registers: [registry],
    }),
    ownedPartitions: new Gauge({
      name: 'hubcap_owned_partitions',
      help: 'Partitions this replica currently processes',
      registers: [registry],
    }),
    errors: new Counter({
      name: 'hubcap_errors_total',
      help: 'Errors by kind',
      labelNames: ['kind'] as const,
      registers: [registry],
    }),
    retries: new Counter({
      name: 'hubcap_storage_retries_total',
      help: 'Storage operations retried, by operation and error kind',
      labelNames: ['operation', 'kind'] as const,
      registers: [registry],
    }),
    discarded: new Counter({
      name: 'hubcap_segments_discarded_total',
      help: 'Open segments dropped without commit (replayed by the next owner)',
      labelNames: ['reason'] as const,
      registers: [registry],
    }),
    stagingSwept: new Counter({
      name: 'hubcap_staging_swept_total',
      help: 'Staging blobs or temp files left by killed agents and removed',
      registers: [registry],
    }),
    configReloads: new Counter({
      name: 'hubcap_config_reloads_total',
      help: 'New config versions offered by the control plane: applied, or rejected as invalid',
      labelNames: ['outcome'] as const,
      registers: [registry],
    }),
    ready: new Gauge({ name: 'hubcap_ready', help: '1 when ready', registers: [registry] }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
