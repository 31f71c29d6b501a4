import { join } from 'node:path';
import { agentMemoryBudget, type Format as FormatConfig } from '@hubcap/shared';
import { scrubSecrets } from '../../runtime/logger.ts';
import type { ErrorKind } from '../../runtime/status.ts';
import type { Format, FormatStart, SchemaVersion, StateLocation } from '../format.ts';
import { RegistryAvroDecoder, schemaRegistryClient } from './avro-decoder.ts';
import { DuckDbEngine } from './duckdb.ts';
import { ParquetEncoder, type ParquetOptions } from './parquet.ts';
import {
  BlobSchemaStateStore,
  FileSchemaStateStore,
  type SchemaStateKey,
  type SchemaStateStore,
} from './schema-store.ts';
import { diffFields, SchemaTracker } from './schema-tracker.ts';

type ParquetConfig = Extract<FormatConfig, { type: 'parquet' }>;

export interface ParquetFormatOptions {
  /** Required: the DuckDB engine, the topic's schema tracker and the body size limit. */
  parquet?: Omit<ParquetOptions, 'compression'>;
}

/**
 * Columns inferred from JSON bodies (or decoded from Avro with a schema registry), written by DuckDB
 * from rows spilled to local disk; events that cannot be a row are dead letters.
 */
export const parquet: Format<ParquetConfig, ParquetFormatOptions> = {
  extension: () => '.parquet',
  contentType: () => 'application/vnd.apache.parquet',
  spillsToDisk: true,
  deadLetters: () => true,
  encoder(config, options) {
    const parts = options.parquet;
    if (!parts) throw new Error('Parquet needs a DuckDB engine and a schema tracker');
    return (ctx) => [new ParquetEncoder({ ...parts, compression: config.compression }, ctx)];
  },
  async start(config, context) {
    const { env, topic } = context;
    const engine = await DuckDbEngine.create({
      spillDir: env.HUBCAP_SPILL_DIR,
      threads: env.HUBCAP_DUCKDB_THREADS,
      // The same budget that sized the heap (NODE_OPTIONS), unless set explicitly.
      memoryLimit:
        env.HUBCAP_DUCKDB_MEMORY_LIMIT ??
        agentMemoryBudget(topic.scaling.memory, 'parquet').duckdbMemoryLimit ??
        undefined,
    });
    const tracker = schemaTracker(context);
    const decoder = registryDecoder(config, context);
    return {
      options: {
        parquet: {
          engine,
          tracker,
          maxBodyBytes: env.HUBCAP_MAX_BODY_BYTES,
          ...(decoder ? { decoder } : {}),
        },
      },
      close() {
        decoder?.close();
        tracker.close();
        engine.close();
      },
    };
  },
};

/** The running schema's document, beside the checkpoints. */
function schemaStore(state: StateLocation, key: SchemaStateKey): SchemaStateStore {
  return state.kind === 'folder'
    ? new FileSchemaStateStore(join(state.path, '.hubcap'), key)
    : new BlobSchemaStateStore(state.container, key);
}

/**
 * The topic's running schema, stored and shared between replicas. Each new version is logged, and
 * reported with the first committed file that carries it.
 */
function schemaTracker(context: FormatStart): SchemaTracker {
  const { topic, agentId, state, status, log, flushed } = context;
  const { fullyQualifiedNamespace, eventHubName, consumerGroup } = topic.source;
  /** Schema versions started but not yet in a committed file. */
  const unreported = new Map<string, SchemaVersion>();
  flushed.subscribe((file) => {
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
  });
  return new SchemaTracker({
    store: schemaStore(state, { topic: topic.topic, fullyQualifiedNamespace, eventHubName, consumerGroup }),
    topic: topic.topic,
    agentId,
    onStoreError: waitedOut(context, {
      kind: 'checkpoint',
      fatal: 'schema-state',
      fatalFrom: 2,
      what: 'schema state not saved yet; retrying',
    }),
    onStoreSuccess: () => status.clearFatal('schema-state'),
    onUnreadableState(error, keptAs) {
      status.recordError('checkpoint', `${error.message}; kept as ${keptAs} and replaced`, true);
      log.error(
        { error: error.message, keptAs },
        'stored schema state is unreadable; kept a copy and replaced it with this replica’s schema',
      );
    },
    onVersion: (version, previous) => {
      unreported.set(version.fingerprint, version);
      const diff = previous ? diffFields(previous.fields, version.fields) : null;
      log.info(
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

/** Avro bodies from Azure Schema Registry, when the topic names one. */
function registryDecoder(config: ParquetConfig, context: FormatStart) {
  const { status, credential } = context;
  const registry = config.schemaRegistry;
  if (!registry) return undefined;
  return new RegistryAvroDecoder({
    client: schemaRegistryClient({
      fullyQualifiedNamespace: registry.fullyQualifiedNamespace,
      credential: credential(registry.clientId),
    }),
    ...(registry.groupName ? { groupName: registry.groupName } : {}),
    onRegistryError: waitedOut(context, {
      kind: 'encoding',
      fatal: 'schema-registry',
      fatalFrom: 1,
      what: 'schema registry not reachable; events wait (none is dead-lettered for an outage)',
    }),
    onRegistryOk: () => status.clearFatal('schema-registry'),
  });
}

/**
 * A failure the files wait out (retried with backoff): reported every time, logged as an error from
 * the fourth attempt, and the agent not ready from attempt `fatalFrom` until the next success.
 */
function waitedOut(
  { status, log }: FormatStart,
  o: { kind: ErrorKind; fatal: string; fatalFrom: number; what: string },
): (error: unknown, attempt: number) => void {
  return (error, attempt) => {
    const message = scrubSecrets((error as Error).message);
    status.recordError(o.kind, message, true);
    if (attempt >= o.fatalFrom) status.setFatal(o.fatal, message);
    log[attempt < 3 ? 'warn' : 'error']({ error: message, attempt }, o.what);
  };
}
