import type { SegmentContext } from '../formats/format.ts';
import { bodyBytes, eventProperties, type SourceEvent } from './event.ts';
import type { DeadLetterKind, RowError } from './json-schema.ts';

export type { DeadLetterKind } from './json-schema.ts';

/**
 * A dead letter: an event that cannot be written in the topic's format. It is kept, never dropped, as
 * one NDJSON line of a sidecar file beside the data (`<prefix>/_deadletter/<folder>/<same name>.ndjson`),
 * published with the data file before its checkpoint, so a replay rewrites both identically.
 */
export interface DeadLetterRecord {
  partitionId: string;
  sequenceNumber: number;
  offset: string;
  enqueuedTime: string;
  partitionKey: string | null;
  /** The event's content type, when it has one (for Avro: `avro/binary+<schema id>`). */
  contentType?: string;
  reason: DeadLetterKind;
  detail: string;
  properties?: Record<string, unknown>;
  /** The body's bytes exactly as received. */
  bodyBase64: string;
}

export const DEAD_LETTER_FOLDER = '_deadletter';
export const DEAD_LETTER_EXTENSION = '.ndjson';

/** Application properties as JSON values (bytes as `{"$base64":…}`, timestamps as ISO strings). */
export function jsonProperties(properties: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(properties)) {
    if (value === undefined) continue;
    if (Buffer.isBuffer(value) || value instanceof Uint8Array) {
      out[key] = { $base64: Buffer.from(value).toString('base64') };
    } else if (value instanceof Date) {
      // A timestamp beyond what Date holds decodes as an invalid Date.
      out[key] = Number.isNaN(value.getTime()) ? null : value.toISOString();
    } else if (typeof value === 'bigint') out[key] = value.toString();
    else out[key] = value;
  }
  return out;
}

export function deadLetterLine(
  partitionId: string,
  event: SourceEvent,
  reason: DeadLetterKind,
  detail: string,
): Buffer {
  const properties = eventProperties(event);
  const record: DeadLetterRecord = {
    partitionId,
    sequenceNumber: event.sequenceNumber,
    offset: String(event.offset),
    enqueuedTime: event.enqueuedTimeUtc.toISOString(),
    partitionKey: event.partitionKey ?? null,
    ...(event.contentType ? { contentType: event.contentType } : {}),
    reason,
    detail: detail.slice(0, 500),
    ...(properties && Object.keys(properties).length > 0 ? { properties: jsonProperties(properties) } : {}),
    bodyBase64: bodyBytes(event.body).toString('base64'),
  };
  return Buffer.from(`${JSON.stringify(record)}\n`);
}

/** Sends an event to the segment's dead letters, counted by reason; a promise means "wait before sending more". */
export function deadLetter(
  ctx: SegmentContext,
  event: SourceEvent,
  problem: RowError,
): Promise<void> | undefined {
  const { result } = ctx;
  result.deadLettered++;
  result.deadLetterKinds[problem.kind] = (result.deadLetterKinds[problem.kind] ?? 0) + 1;
  return ctx.deadLetter(deadLetterLine(ctx.partitionId, event, problem.kind, problem.message));
}
