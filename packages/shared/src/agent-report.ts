import { z } from 'zod';
import { TopicConfig, TopicName } from './topic-config.ts';

/** AgentReport: what an agent sends the control plane every reporting interval. */

export const MAX_REPORTED_ERRORS = 50;

// Bounded by what the database stores: BIGINT columns hold any safe integer, INTEGER ones 2^31 - 1.
const MAX_BIG = Number.MAX_SAFE_INTEGER;
const MAX_INT = 2 ** 31 - 1;
const SequenceNumber = z
  .number()
  .int('must be a whole number')
  .min(-1, 'must be -1 or more')
  .max(MAX_BIG, `must be at most ${MAX_BIG}`);
const Rate = z.number().finite('must be a finite number').min(0, 'must not be negative');
const Count = z
  .number()
  .int('must be a whole number')
  .min(0, 'must not be negative')
  .max(MAX_BIG, `must be at most ${MAX_BIG}`);
const SmallCount = Count.max(MAX_INT, `must be at most ${MAX_INT}`);

/** A position in a partition: the SDK reports offsets as strings. */
export const EventPosition = z.strictObject({
  sequenceNumber: SequenceNumber,
  offset: z.string().max(64),
  enqueuedTime: z.iso.datetime({ error: 'must be an ISO 8601 UTC time' }),
});

export const PartitionReport = z.strictObject({
  partitionId: z.string().min(1, 'partitionId is required').max(64),
  lastEnqueued: EventPosition.nullable().meta({
    description: 'Newest event in the partition (service side).',
  }),
  lastReceived: EventPosition.nullable(),
  lastCheckpointed: EventPosition.nullable(),
  lagEvents: Count.meta({ description: 'Events enqueued but not yet checkpointed.' }),
  lagSeconds: Rate.meta({ description: 'Age of the oldest event not yet checkpointed.' }),
  eventsPerSecond: Rate,
  bytesPerSecond: Rate,
});

export const AgentError = z.strictObject({
  at: z.iso.datetime({ error: 'must be an ISO 8601 UTC time' }),
  kind: z.enum(['source', 'sink', 'checkpoint', 'encoding', 'config', 'report']),
  message: z.string().min(1).max(2000),
  partitionId: z.string().max(64).optional(),
  retryable: z.boolean(),
});

export const MAX_REPORTED_FILES = 50;

/** A file the agent committed to the destination since its previous report. */
export const FileReport = z.strictObject({
  path: z.string().min(1, 'path is required').max(1024),
  partitionId: z.string().min(1, 'partitionId is required').max(64),
  events: SmallCount,
  bytes: Count,
  firstSequenceNumber: SequenceNumber,
  lastSequenceNumber: SequenceNumber,
  committedAt: z.iso.datetime({ error: 'must be an ISO 8601 UTC time' }),
});

export const MAX_REPORTED_SCHEMAS = 20;

/** One node of a row schema: `a.b` struct field, `a[]` list element, `a{}` map value. */
export const SchemaField = z.strictObject({
  path: z.string().min(1).max(1024),
  type: z
    .string()
    .min(1)
    .max(4000)
    .meta({ description: 'DuckDB type (BIGINT, VARCHAR…), or STRUCT/LIST/MAP/NULL.' }),
});

/** A schema version the agent started writing (Parquet): the whole current schema, not a delta. */
export const SchemaVersionReport = z.strictObject({
  fingerprint: z
    .string()
    .regex(/^[0-9a-f]{32}$/, 'must be 32 lower-case hex digits')
    .meta({
      description: 'Hash of the sorted field list: equal schemas have equal fingerprints on every replica.',
    }),
  fields: z.array(SchemaField).max(10_000, 'at most 10000 fields'),
  firstSeenAt: z.iso.datetime({ error: 'must be an ISO 8601 UTC time' }),
  /** The first file written with this schema, once it is committed. */
  path: z.string().min(1).max(1024),
  partitionId: z.string().min(1).max(64),
});

export const AgentReport = z.strictObject({
  agentId: z.string().min(1, 'agentId is required').max(200),
  topic: TopicName,
  agentVersion: z.string().max(64),
  sentAt: z.iso.datetime({ error: 'must be an ISO 8601 UTC time' }),
  startedAt: z.iso.datetime({ error: 'must be an ISO 8601 UTC time' }),
  ready: z.boolean(),
  configVersion: Count.optional().meta({ description: 'The config version this replica runs.' }),
  configIssue: z
    .strictObject({
      version: Count,
      kind: z.enum(['rejected', 'awaitingRestart']),
      reason: z.string().max(2000),
    })
    .optional()
    .meta({
      description:
        'The newest version this replica has not applied: rejected (invalid for this agent) or awaiting a restart by the control plane.',
    }),
  partitions: z.array(PartitionReport).max(1024, 'at most 1024 partitions'),
  eventsPerSecond: Rate,
  bytesPerSecond: Rate,
  /** Totals since the agent started; the control plane derives rates per window from them. */
  eventsWritten: Count,
  bytesWritten: Count,
  filesWritten: SmallCount,
  deadLettered: SmallCount,
  errors: z
    .array(AgentError)
    .max(MAX_REPORTED_ERRORS, `at most ${MAX_REPORTED_ERRORS} errors per report`)
    .meta({ description: 'Errors since the previous report (oldest dropped first beyond the limit).' }),
  recentFiles: z
    .array(FileReport)
    .max(MAX_REPORTED_FILES, `at most ${MAX_REPORTED_FILES} files per report`)
    .optional()
    .meta({
      description: 'Files committed since the previous report (optional; newest kept beyond the limit).',
    }),
  deadLetteredByReason: z
    .record(z.string().max(64), SmallCount)
    .optional()
    .meta({ description: 'Dead letters since the agent started, by reason (not-json, too-large, …).' }),
  schemaVersions: z
    .array(SchemaVersionReport)
    .max(MAX_REPORTED_SCHEMAS, `at most ${MAX_REPORTED_SCHEMAS} schema versions per report`)
    .optional()
    .meta({ description: 'Schema versions first written since the previous report (Parquet topics).' }),
});

export type EventPosition = z.output<typeof EventPosition>;
export type PartitionReport = z.output<typeof PartitionReport>;
export type AgentError = z.output<typeof AgentError>;
export type FileReport = z.output<typeof FileReport>;
export type AgentReport = z.output<typeof AgentReport>;
export type SchemaField = z.output<typeof SchemaField>;
export type SchemaVersionReport = z.output<typeof SchemaVersionReport>;

/** The control plane's answer to a report: the topic's current config version (newer: fetch it). */
export const ReportAck = z.strictObject({ configVersion: z.int().min(1).max(MAX_INT) });
export type ReportAck = z.output<typeof ReportAck>;

/** The control plane's answer to `agent.config`: the current version, secrets opened. */
export const AgentConfigResponse = z.strictObject({
  version: z.int().min(1).max(MAX_INT),
  config: TopicConfig,
});
export type AgentConfigResponse = z.output<typeof AgentConfigResponse>;
