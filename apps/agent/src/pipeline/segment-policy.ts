import { type TimeBoundary, timeBucket } from '@hubcap/shared';

/**
 * When a partition's open segment is flushed. Pure: callers feed events and the clock.
 *
 * A segment normally ends at whichever limit comes first: bytes, events, age, or the next time bucket
 * of the path. A *forced* segment ignores those limits and ends exactly at a given sequence number:
 * at a replay boundary (`forcedLastSequence` in paths.ts), so that a replay rewrites a
 * committed-but-not-checkpointed file byte for byte, or at a quarantine split (ingest/quarantine.ts).
 */
export interface SegmentLimits {
  maxBytes: number;
  maxEvents: number;
  maxAgeMs: number;
  boundary: TimeBoundary;
}

/**
 * The first file a partition writes after the agent starts is flushed after at most this long, so a
 * newly deployed topic shows a file within a minute of Deploy even with a long `maxAgeSeconds`.
 */
export const FIRST_FILE_MAX_AGE_MS = 10_000;

export interface SegmentState {
  readonly firstSequence: number;
  readonly firstEnqueuedTime: Date;
  readonly bucket: number;
  /** Wall-clock time the first event arrived (ms). */
  readonly openedAtMs: number;
  /** Age at which the segment expires: the limit, or less for a partition's first file. */
  readonly maxAgeMs: number;
  /** Set when the segment must end exactly at this sequence number. */
  readonly forcedLastSequence: number | null;
  lastSequence: number;
  lastOffset: string;
  lastEnqueuedTime: Date;
  events: number;
  bytes: number;
}

export interface PolicyEvent {
  sequenceNumber: number;
  offset: string;
  enqueuedTimeUtc: Date;
}

export function openSegment(
  limits: SegmentLimits,
  first: PolicyEvent,
  nowMs: number,
  forcedLastSequence: number | null,
  firstOfRun = false,
): SegmentState {
  return {
    firstSequence: first.sequenceNumber,
    firstEnqueuedTime: first.enqueuedTimeUtc,
    bucket: timeBucket(limits.boundary, first.enqueuedTimeUtc),
    openedAtMs: nowMs,
    maxAgeMs: firstOfRun ? Math.min(limits.maxAgeMs, FIRST_FILE_MAX_AGE_MS) : limits.maxAgeMs,
    forcedLastSequence,
    lastSequence: first.sequenceNumber - 1,
    lastOffset: '',
    lastEnqueuedTime: first.enqueuedTimeUtc,
    events: 0,
    bytes: 0,
  };
}

/** Whether `event` may join the segment, or the segment must be flushed first. */
export function fits(limits: SegmentLimits, state: SegmentState, event: PolicyEvent, size: number): boolean {
  if (state.events === 0) return true;
  if (state.forcedLastSequence !== null) return event.sequenceNumber <= state.forcedLastSequence;
  if (timeBucket(limits.boundary, event.enqueuedTimeUtc) !== state.bucket) return false;
  return state.bytes + size <= limits.maxBytes;
}

export function append(state: SegmentState, event: PolicyEvent, size: number): void {
  state.lastSequence = event.sequenceNumber;
  state.lastOffset = event.offset;
  state.lastEnqueuedTime = event.enqueuedTimeUtc;
  state.events++;
  state.bytes += size;
}

/** Whether the segment is complete right after an append. */
export function isFull(limits: SegmentLimits, state: SegmentState): boolean {
  if (state.forcedLastSequence !== null) return state.lastSequence >= state.forcedLastSequence;
  return state.events >= limits.maxEvents || state.bytes >= limits.maxBytes;
}

/** Whether the segment has been open too long. Forced segments never expire: they must end exactly. */
export function isExpired(state: SegmentState, nowMs: number): boolean {
  if (state.forcedLastSequence !== null || state.events === 0) return false;
  return nowMs - state.openedAtMs >= state.maxAgeMs;
}

/** A forced segment that has not reached its end cannot be committed (it would differ from the file). */
export function canCommit(state: SegmentState): boolean {
  return (
    state.events > 0 && (state.forcedLastSequence === null || state.lastSequence === state.forcedLastSequence)
  );
}
