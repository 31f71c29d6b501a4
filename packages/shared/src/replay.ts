import { z } from 'zod';
import { SourceFields, TopicConfig, TopicName } from './topic-config.ts';

/** Replay and backfill: one bounded run of a topic's events into the lake, beside its live agents. */

const MAX_BIG = Number.MAX_SAFE_INTEGER;
/** A replay is one job's work: longer windows are several replays, each resumable on its own. */
export const MAX_REPLAY_DAYS = 90;

// Not `.int()`: past 2^53 it also fails, and "whole number" would hide the message that helps ("at most").
const Sequence = z
  .number()
  .refine(Number.isInteger, 'must be a whole number')
  .min(0, 'must not be negative')
  .max(MAX_BIG, `must be at most ${MAX_BIG}`);
const Instant = z.iso.datetime({
  offset: true,
  error: 'must be a date and time such as 2026-11-24T10:00:00Z',
});
const PARTITION_ID = 'must be a partition id (letters, digits, "-" or "_", at most 64)';
const PartitionId = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, PARTITION_ID);

export const ReplayTarget = z.discriminatedUnion(
  'kind',
  [
    z.strictObject({ kind: z.literal('ownLayout') }).meta({
      description:
        "The topic's own folders and names: files the live agent already wrote are rewritten byte for byte.",
    }),
    z.strictObject({
      kind: z.literal('prefix'),
      prefix: z
        .string()
        .min(1, 'must not be empty')
        .max(512, 'must be at most 512 characters')
        .regex(
          /^([A-Za-z0-9=._-]+\/)*[A-Za-z0-9=._-]+$/,
          'use path segments separated by "/" (no leading or trailing "/")',
        )
        .refine(
          (prefix) => !prefix.split('/').some((segment) => segment === '.' || segment === '..'),
          'must not contain "." or ".." path segments',
        )
        .meta({
          description: "Folder (in the topic's container or folder) the replay writes its own layout under.",
        }),
    }),
  ],
  { error: 'must be "ownLayout" or "prefix"' },
);
export type ReplayTarget = z.output<typeof ReplayTarget>;

const PartitionSequences = z
  .record(PartitionId, Sequence, {
    error: (issue) => (issue.code === 'invalid_key' ? PARTITION_ID : undefined),
  })
  .refine((m) => Object.keys(m).length <= 1024, 'must name at most 1024 partitions');

/** What a replay reads: events enqueued from `from` up to (not including) `to`, per partition. */
const ReplayWindow = z.strictObject({
  from: Instant.meta({ description: 'First enqueued time replayed.' }),
  to: Instant.meta({ description: 'End of the replay (exclusive); at most now.' }),
  /** Per partition, the first sequence number instead of `from` (partitions not named start at `from`). */
  startSequences: PartitionSequences.optional(),
  /**
   * Per partition, the last sequence number replayed (inclusive) instead of the last before `to`.
   * When given, only the partitions it names are replayed: a bounded range is asked for by partition
   * (a gap of a rollback to Capture is filled on the partitions that have one, and on no other).
   */
  // Empty (or only keys the parser drops, such as "__proto__") would be a replay of nothing that succeeds.
  endSequences: PartitionSequences.refine(
    (m) => Object.keys(m).length > 0,
    'must name at least one partition: only the partitions named are replayed',
  ).optional(),
  target: ReplayTarget,
  consumerGroup: SourceFields.shape.consumerGroup.unwrap().optional().meta({
    description:
      "Consumer group the replay reads with; default the topic's. Event Hubs refuses a reader without an owner level in a group whose readers hold one, as the topic's running agents do: give a replay its own group, or pause the topic.",
  }),
});

/** Fields whose order or size the clock does not decide: checked here; "not in the future" by the server. */
function checkWindow(
  value: {
    from: string;
    to: string;
    startSequences?: Record<string, number> | undefined;
    endSequences?: Record<string, number> | undefined;
  },
  ctx: z.RefinementCtx,
): void {
  for (const [partition, end] of Object.entries(value.endSequences ?? {})) {
    const start = value.startSequences?.[partition];
    if (start !== undefined && end < start)
      ctx.addIssue({
        code: 'custom',
        path: ['endSequences', partition],
        message: `must not be below the start sequence (${start})`,
      });
  }
  const from = Date.parse(value.from);
  const to = Date.parse(value.to);
  if (to <= from) ctx.addIssue({ code: 'custom', path: ['to'], message: 'must be after the start' });
  else if (to - from > MAX_REPLAY_DAYS * 86_400_000)
    ctx.addIssue({
      code: 'custom',
      path: ['to'],
      message: `must be at most ${MAX_REPLAY_DAYS} days after the start`,
    });
}

export const ReplayRequest = ReplayWindow.extend({ topic: TopicName }).superRefine(checkWindow);
export type ReplayRequest = z.output<typeof ReplayRequest>;
export type ReplayRequestInput = z.input<typeof ReplayRequest>;

/** What a replay run is told by the control plane: its id, window and the topic's config. */
export const ReplayRun = ReplayWindow.extend({
  id: z.string().regex(/^[a-z0-9]{1,40}$/, 'must be a replay id'),
  /**
   * Into the topic's own layout while its agents are deployed: per partition, their checkpoint. The
   * run rewrites only what they landed (a partition not named: nothing); they land the rest themselves,
   * with their own file boundaries, which a replay's files past the checkpoint would overlap.
   */
  landedUpTo: PartitionSequences.optional(),
}).superRefine(checkWindow);
export type ReplayRun = z.output<typeof ReplayRun>;

export const AgentReplayResponse = z.strictObject({ replay: ReplayRun, config: TopicConfig });
export type AgentReplayResponse = z.output<typeof AgentReplayResponse>;

/** One partition's share of a replay: its sequence range (inclusive) and what is landed of it. */
export const ReplayPartition = z.strictObject({
  partitionId: PartitionId,
  /** Null: nothing to replay in this partition (no event in the window). */
  firstSequence: Sequence.nullable(),
  lastSequence: Sequence.nullable(),
  /** The last sequence number landed and checkpointed by the replay, or null before its first file. */
  landed: Sequence.nullable(),
  done: z.boolean(),
});
export type ReplayPartition = z.output<typeof ReplayPartition>;

/** A replay run's report: sent every reporting interval and once at its end. */
export const ReplayProgress = z.strictObject({
  id: ReplayRun.shape.id,
  partitions: z.array(ReplayPartition).max(1024, 'must list at most 1024 partitions'),
  state: z.enum(['running', 'succeeded', 'failed']),
  message: z.string().max(2000, 'must be at most 2000 characters').optional(),
});
export type ReplayProgress = z.output<typeof ReplayProgress>;

/** Events of a partition's range landed so far. */
export function replayedEvents(p: ReplayPartition): number {
  if (p.firstSequence === null || p.lastSequence === null) return 0;
  if (p.done) return p.lastSequence - p.firstSequence + 1;
  return p.landed === null ? 0 : Math.max(0, p.landed - p.firstSequence + 1);
}

export const REPLAY_STATES = ['starting', 'running', 'succeeded', 'failed', 'cancelled'] as const;
export type ReplayState = (typeof REPLAY_STATES)[number];
/** The states of a replay that has not ended: its run holds the topic's config and token. */
export const UNFINISHED_REPLAY_STATES: ReplayState[] = ['starting', 'running'];

/** One partition-window of the verify report of a replay's windows (see `hubcap verify`). */
export const ReplayVerifyCell = z.strictObject({
  window: z.string(),
  partition: z.string(),
  status: z.string(),
  events: z.number(),
  files: z.number(),
  problems: z.array(z.string()),
});

export const ReplayVerify = z.strictObject({
  ok: z.boolean(),
  problems: z.number(),
  cells: z.array(ReplayVerifyCell),
  /** Set when verify itself could not run (storage unreachable). */
  error: z.string().optional(),
});
export type ReplayVerify = z.output<typeof ReplayVerify>;

/** A replay as people see it: every number derived from the run's reports and the clock. */
export const ReplayView = z.strictObject({
  id: z.string(),
  state: z.enum(REPLAY_STATES),
  from: z.string(),
  to: z.string(),
  target: ReplayTarget,
  startSequences: z.record(z.string(), z.number()).nullable(),
  endSequences: z.record(z.string(), z.number()).nullable(),
  partitions: z.array(ReplayPartition),
  events: z.number(),
  totalEvents: z.number(),
  partitionsDone: z.number(),
  /** From the rate so far; null before the first landed file or once finished. */
  secondsLeft: z.number().nullable(),
  message: z.string(),
  verify: ReplayVerify.nullable(),
  createdBy: z.string().nullable(),
  createdAt: z.string(),
  finishedAt: z.string().nullable(),
});
export type ReplayView = z.output<typeof ReplayView>;
