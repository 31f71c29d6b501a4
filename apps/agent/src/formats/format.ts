import type { RowError } from '../pipeline/json-schema.ts';
import type { FilePlan } from './parquet/schema-tracker.ts';

/**
 * The contract between a partition's segment and the format's encoder: what the encoder hands back,
 * how a dead letter leaves it, and how it says that it cannot write what it was given.
 */
export interface SegmentContext {
  partitionId: string;
  /** Takes one dead-letter line; a returned promise means "wait before sending more". */
  deadLetter(line: Buffer): Promise<void> | undefined;
  result: SegmentResult;
}

export interface SegmentResult {
  rows: number;
  deadLettered: number;
  deadLetterKinds: Partial<Record<RowError['kind'], number>>;
  schema?: FilePlan['version'];
}

export function newSegmentResult(): SegmentResult {
  return { rows: 0, deadLettered: 0, deadLetterKinds: {} };
}

/**
 * The format's writer refused a segment's content (not an outage): the same events would fail again.
 * The partition writer isolates the event that causes it and writes it as a dead letter.
 */
export class UnwritableError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'UnwritableError';
  }
}
