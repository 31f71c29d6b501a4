/**
 * Isolating an event that the topic's format cannot write, so that one event never stalls a partition.
 *
 * When the encoder refuses a segment's content (`UnwritableError`), nothing of it is published or
 * checkpointed; the partition's reader restarts from the checkpoint and reads the same events again.
 * The failed range is then *quarantined*: segments inside it end every `span` events (a forced end,
 * like a replay boundary), so each attempt splits the failing range into SPLIT parts. The parts that
 * encode are published and checkpointed as usual; a failing part narrows the range again, until a
 * single event fails on its own: that event becomes a dead letter (raw bytes kept, reason named) and
 * the partition moves on. A segment of n events costs about log_SPLIT(n) + 1 re-reads.
 *
 * Refusals that only happen with several events together leave every part writable: the range is
 * then simply written in smaller files. The quarantine lives in memory; after a crash the first
 * failure starts it again, and files already published keep their names (replay boundaries).
 */
export interface Quarantine {
  firstSequence: number;
  lastSequence: number;
  /** Events per segment inside the range. */
  span: number;
  /** The single event of the range failed on its own: it is written as a dead letter. */
  isolated: boolean;
  /** The encoder's message, kept in the dead letter. */
  reason: string;
}

export const SPLIT = 8;

/** The quarantine after the segment [first, last] holding `events` events could not be encoded. */
export function quarantineAfter(first: number, last: number, events: number, reason: string): Quarantine {
  return {
    firstSequence: first,
    lastSequence: last,
    span: Math.max(1, Math.ceil(events / SPLIT)),
    isolated: events <= 1,
    reason,
  };
}

/** Where a segment opening at `sequence` must end, or null when the quarantine does not cover it. */
export function quarantinedEnd(q: Quarantine | null, sequence: number): number | null {
  if (!q || sequence < q.firstSequence || sequence > q.lastSequence) return null;
  return Math.min(q.lastSequence, sequence + q.span - 1);
}

/** Whether the event at `sequence` is the one isolated event to write as a dead letter. */
export function isIsolated(q: Quarantine | null, sequence: number): q is Quarantine {
  return q?.isolated === true && q.firstSequence === sequence;
}
