import { z } from 'zod';
import { ContainerName, TopicName } from './topic-config.ts';

/**
 * Event Hubs Capture's archive name format: every token is required (as Azure requires), in any order,
 * and Capture appends `.avro` to the last segment.
 */
export const CAPTURE_TOKENS = [
  'Namespace',
  'EventHub',
  'PartitionId',
  'Year',
  'Month',
  'Day',
  'Hour',
  'Minute',
  'Second',
] as const;

export type CaptureToken = (typeof CAPTURE_TOKENS)[number];

export const DEFAULT_CAPTURE_PATH_FORMAT =
  '{Namespace}/{EventHub}/{PartitionId}/{Year}/{Month}/{Day}/{Hour}/{Minute}/{Second}';

const TOKEN = /\{([^{}]*)\}/g;
const SAFE_LITERAL = /^[A-Za-z0-9=._\-/]*$/;

/** Problems with a Capture archive name format, in plain words; empty when it is usable. */
export function capturePathFormatProblems(format: string): string[] {
  const problems: string[] = [];
  if (format.length > 1024) return ['must be at most 1024 characters'];
  if (format.startsWith('/') || format.endsWith('/')) problems.push('must not start or end with "/"');
  if (format.includes('//')) problems.push('must not contain empty path segments ("//")');
  if (format.split('/').some((segment) => segment === '.' || segment === '..'))
    problems.push('must not contain "." or ".." path segments');
  const seen = new Map<string, number>();
  for (const [, name] of format.matchAll(TOKEN)) seen.set(name!, (seen.get(name!) ?? 0) + 1);
  for (const name of seen.keys())
    if (!(CAPTURE_TOKENS as readonly string[]).includes(name))
      problems.push(
        `unknown token {${name}}; Capture knows ${CAPTURE_TOKENS.map((t) => `{${t}}`).join(', ')}`,
      );
  const missing = CAPTURE_TOKENS.filter((t) => !seen.has(t));
  if (missing.length > 0)
    problems.push(`must contain every Capture token; missing ${missing.map((t) => `{${t}}`).join(', ')}`);
  const repeated = [...seen].filter(([, n]) => n > 1).map(([t]) => `{${t}}`);
  if (repeated.length > 0) problems.push(`names ${repeated.join(', ')} more than once`);
  const literal = format.replace(TOKEN, '');
  if (/[{}]/.test(literal)) problems.push('has an unmatched "{" or "}"');
  else if (!SAFE_LITERAL.test(literal))
    problems.push('may contain only letters, digits, "=", ".", "_", "-" and "/" outside tokens');
  return problems;
}

export const CapturePathFormat = z
  .string()
  .superRefine((format, ctx) => {
    for (const message of capturePathFormatProblems(format)) ctx.addIssue({ code: 'custom', message });
  })
  .default(DEFAULT_CAPTURE_PATH_FORMAT);

/** Where Capture writes: a container of the topic's storage account, and Capture's archive name format. */
export const CaptureLocation = z.strictObject({
  topic: TopicName,
  container: ContainerName,
  pathFormat: CapturePathFormat,
});
export type CaptureLocation = z.output<typeof CaptureLocation>;

/** A sequence number as Event Hubs hands it out: a non-negative safe integer. */
const Sequence = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

/** A file that could not be used, by name, and why. */
export const CaptureFileProblem = z.object({ file: z.string(), message: z.string() });

/**
 * Where one landed stream ends (its last event) or starts (its first) on a partition, and the file that
 * says so. Offset and time are read from Capture's records; Hubcap's files tell them by content only.
 */
export const LandedPosition = z.object({
  sequenceNumber: Sequence,
  offset: z.string().nullable(),
  /** ISO 8601 when it could be read as a time, else as written. */
  enqueuedTime: z.string().nullable(),
  file: z.string(),
});
export type LandedPosition = z.infer<typeof LandedPosition>;

export const CutoverPlanRow = z.object({
  partitionId: z.string(),
  /** Capture's last event on this partition; null when Capture landed nothing readable there. */
  captureLast: LandedPosition.nullable(),
  /** The first sequence number Hubcap will land: Capture's last + 1. */
  hubcapFirst: Sequence.nullable(),
  /** Why this partition cannot be cut over yet; null when it can. */
  problem: z.string().nullable(),
});

/** What a plan made from Capture's files says besides its partitions (the cutover's and the rollback's). */
const CapturePlan = z.object({
  topic: z.string(),
  container: z.string(),
  pathFormat: z.string(),
  /** Files skipped because they are not Capture's or cannot be read, by name. */
  fileProblems: z.array(CaptureFileProblem),
  /**
   * Why the plan cannot be acted on now. Cutover: checkpoints exist, agents run, a partition has a
   * problem. Rollback: agents run, Capture has not written yet, nothing to fill.
   */
  blockers: z.array(z.string()),
  /**
   * What acting now cannot change, said before it starts. Cutover: events the hub no longer holds.
   * Rollback: overlaps, events past retention.
   */
  warnings: z.array(z.string()),
});

export const CutoverPlan = CapturePlan.extend({ partitions: z.array(CutoverPlanRow) });
export type CutoverPlan = z.infer<typeof CutoverPlan>;

/** Apply exactly the plan that was shown: the scan is repeated and must find the same positions. */
export const CutoverApplyInput = CaptureLocation.extend({
  expected: z.array(z.strictObject({ partitionId: z.string().max(64), sequenceNumber: Sequence })).max(1024),
});

/**
 * How two landed streams meet on one partition: the earlier one's last sequence number against the
 * later one's first. Continuous when first = last + 1; otherwise the exact range missing or landed twice.
 */
export const Continuity = z.discriminatedUnion('state', [
  z.object({ state: z.literal('continuous') }),
  z.object({ state: z.literal('gap'), from: Sequence, to: Sequence }),
  z.object({ state: z.literal('overlap'), from: Sequence, to: Sequence }),
  z.object({ state: z.literal('unknown'), reason: z.string() }),
]);
export type Continuity = z.infer<typeof Continuity>;

export const CutoverDirection = z.enum(['toHubcap', 'toCapture']);
export type CutoverDirection = z.infer<typeof CutoverDirection>;

export const ContinuityRow = z.object({
  partitionId: z.string(),
  /** The stream handed over from: Capture's last (toHubcap) or Hubcap's last (toCapture). */
  before: LandedPosition.nullable(),
  /** The stream handed over to: Hubcap's first landed file (toHubcap) or Capture's first file after it (toCapture). */
  after: LandedPosition.nullable(),
  continuity: Continuity,
});

export const ContinuityReport = z.object({
  topic: z.string(),
  direction: CutoverDirection,
  partitions: z.array(ContinuityRow),
  fileProblems: z.array(CaptureFileProblem),
});
export type ContinuityReport = z.infer<typeof ContinuityReport>;

/** Compares where one stream ended with where the next one started on the same partition. */
export function continuity(lastBefore: number | null, firstAfter: number | null): Continuity {
  if (lastBefore === null) return { state: 'unknown', reason: 'nothing landed before the handover' };
  if (firstAfter === null) return { state: 'unknown', reason: 'nothing landed after the handover yet' };
  if (firstAfter === lastBefore + 1) return { state: 'continuous' };
  return firstAfter > lastBefore + 1
    ? { state: 'gap', from: lastBefore + 1, to: firstAfter - 1 }
    : { state: 'overlap', from: firstAfter, to: lastBefore };
}

/**
 * One partition of a rollback to Capture: Hubcap's last landed event (L), Capture's first since it was
 * enabled again (C), and how they meet: a gap L+1..C-1 is what "fill the gap" replays.
 */
export const RollbackPlanRow = ContinuityRow.extend({
  /** Why this partition's gap cannot be filled (or proven) now; null when it can, or has no gap. */
  problem: z.string().nullable(),
});

export const RollbackPlan = CapturePlan.extend({ partitions: z.array(RollbackPlanRow) });
export type RollbackPlan = z.infer<typeof RollbackPlan>;

/** Fill exactly the gaps that were shown: the plan is made again and must find the same ranges. */
export const FillGapInput = CaptureLocation.extend({
  expected: z
    .array(z.strictObject({ partitionId: z.string().max(64), from: Sequence, to: Sequence }))
    .max(1024),
});
export type FillGapInput = z.output<typeof FillGapInput>;

/** The gaps of a rollback plan, as shown and as a fill is asked for: Hubcap's last + 1 to Capture's first - 1. */
export function rollbackGaps(partitions: RollbackPlan['partitions']): FillGapInput['expected'] {
  return partitions.flatMap((p) =>
    p.continuity.state === 'gap' && !p.problem
      ? [{ partitionId: p.partitionId, from: p.continuity.from, to: p.continuity.to }]
      : [],
  );
}
