import { continuityReport } from '@hubcap/lake';
import {
  type CaptureLocation,
  type FillGapInput,
  type ReplayView,
  type RollbackPlan,
  rollbackGaps,
  type TopicConfig,
  UNFINISHED_REPLAY_STATES,
} from '@hubcap/shared';
import { AppError } from '../../errors.ts';
import { type Actor, auditTopic } from '../audit.ts';
import { startReplay } from '../replay/replay.ts';
import { consumerFor, describe, type PartitionInfo, receive, withTimeout } from '../topics/connection.ts';
import {
  agentsRunning,
  type CutoverServices,
  captureSource,
  landingOf,
  list,
  load,
  readHub,
  reading,
} from './cutover.ts';

/** One partition's range the fill replays: the gap, less what the hub no longer holds. */
interface Fill {
  partitionId: string;
  from: number;
  to: number;
}

type Row = RollbackPlan['partitions'][number];

/** The part of a gap the hub still holds, or null when retention dropped all of it. */
function fillOf(row: Row, hub: PartitionInfo | undefined): Fill | null {
  if (row.problem || row.continuity.state !== 'gap' || !hub || hub.isEmpty) return null;
  const from = Math.max(row.continuity.from, hub.beginningSequenceNumber);
  return from > row.continuity.to ? null : { partitionId: row.partitionId, from, to: row.continuity.to };
}

/** Why a partition's handover cannot be proven yet; null when it can (or there is nothing to hand over). */
function problemOf(row: Omit<Row, 'problem'>, hub: PartitionInfo | undefined): string | null {
  if (row.continuity.state !== 'unknown' || hub?.isEmpty) return null;
  if (!row.before)
    return 'Hubcap has landed nothing on this partition: nothing proves where the rollback starts';
  return "Capture has written no file here since it was enabled again (a partition gets one with its next event): wait for Capture's next time window and scan again";
}

/** Why the gap cannot be filled now; each says what to do. */
function blockersOf(
  plan: Pick<RollbackPlan, 'partitions'>,
  fills: Fill[],
  running: { agents: boolean; replays: string[] },
): string[] {
  const blockers: string[] = [];
  if (running.agents)
    blockers.push(
      "its agents are running: remove or pause the topic's deployment (the agents drain: every event they received is written and checkpointed) and wait until no agent reports, then scan again",
    );
  if (running.replays.length > 0)
    blockers.push(
      `a replay of this topic is running (${list(running.replays)}): wait for it to end, then scan again`,
    );
  const captured = plan.partitions.filter((p) => p.after);
  if (captured.length === 0 && plan.partitions.some((p) => p.before))
    blockers.push(
      'Capture has written nothing since Hubcap took over: enable Capture on the event hub and wait one Capture time window, then scan again',
    );
  else
    for (const p of plan.partitions) if (p.problem) blockers.push(`partition ${p.partitionId}: ${p.problem}`);
  if (blockers.length === 0 && fills.length === 0)
    blockers.push(
      plan.partitions.some((p) => p.continuity.state === 'gap')
        ? 'nothing to fill: the hub no longer holds any event of the gap (lost at source, see the warnings)'
        : plan.partitions.every((p) => p.continuity.state !== 'overlap')
          ? "nothing to fill: on every partition Hubcap's last + 1 is Capture's first (the gap is filled)"
          : `nothing to fill: ${plan.partitions
              .flatMap((p) =>
                p.continuity.state === 'overlap'
                  ? [`partition ${p.partitionId} overlaps ${p.continuity.from}–${p.continuity.to}`]
                  : [],
              )
              .join(', ')} (Capture's first is not after Hubcap's last: both landed those events)`,
    );
  return blockers;
}

/** What filling cannot change, said before it starts: events landed twice, events the hub dropped. */
function warningsOf(partitions: Row[], hub: PartitionInfo[]): string[] {
  const warnings: string[] = [];
  for (const row of partitions) {
    const c = row.continuity;
    const info = hub.find((p) => p.partitionId === row.partitionId);
    if (c.state === 'overlap')
      warnings.push(
        `partition ${row.partitionId}: overlap ${c.from}–${c.to} (${c.to - c.from + 1} events landed by both; Capture was enabled before the agents stopped): drop one copy downstream by (partition, SequenceNumber)`,
      );
    if (c.state === 'gap' && info && !info.isEmpty && c.from < info.beginningSequenceNumber) {
      const lost = Math.min(c.to, info.beginningSequenceNumber - 1);
      warnings.push(
        `partition ${row.partitionId}: the hub no longer holds ${c.from}–${lost} (${lost - c.from + 1} events past retention): landed by neither, they are lost at source`,
      );
    }
  }
  return warnings;
}

/** The plan and everything needed to act on it. */
async function rollback(services: CutoverServices, location: CaptureLocation, now = new Date()) {
  const loaded = await load(services, location.topic);
  const hub = await readHub(loaded.config);
  const report = await reading(
    continuityReport(
      captureSource(loaded.destination, location, hub),
      landingOf(loaded.destination),
      'toCapture',
      hub.partitionIds,
    ),
  );
  const info = (id: string) => hub.partitions.find((p) => p.partitionId === id);
  const partitions = report.partitions.map((row) => ({
    ...row,
    problem: problemOf(row, info(row.partitionId)),
  }));
  const fills = partitions.flatMap((row) => fillOf(row, info(row.partitionId)) ?? []);
  const replays = await services.prisma.replay.findMany({
    where: { topicId: loaded.topic.id, state: { in: UNFINISHED_REPLAY_STATES } },
    select: { id: true },
  });
  const running = { agents: agentsRunning(loaded.topic, now), replays: replays.map((r) => r.id) };
  const plan: RollbackPlan = {
    topic: loaded.topic.slug,
    container: location.container,
    pathFormat: location.pathFormat,
    partitions,
    fileProblems: report.fileProblems,
    blockers: blockersOf({ partitions }, fills, running),
    warnings: warningsOf(partitions, hub.partitions),
  };
  return { ...loaded, plan, fills };
}

/**
 * The rollback to Capture, per partition: Hubcap's last landed event (L), Capture's first since it was
 * enabled again (C), the gap L+1..C-1 between them, and why it cannot be filled now, if so.
 */
export async function rollbackPlan(
  services: CutoverServices,
  location: CaptureLocation,
): Promise<RollbackPlan> {
  return (await rollback(services, location)).plan;
}

/** The earliest enqueued time of the fills' first events: the replay's window starts there. */
async function firstEnqueued(config: TopicConfig, fills: Fill[]): Promise<Date> {
  const client = consumerFor(config);
  try {
    const firsts = await Promise.all(
      fills.map(async (f) => {
        const [event] = await withTimeout('the event hub', receive(client, f.partitionId, f.from, 1, 5));
        if (!event) throw new Error(`partition ${f.partitionId} returned no event at sequence ${f.from}`);
        return event.enqueuedTimeUtc.getTime();
      }),
    );
    return new Date(Math.min(...firsts));
  } catch (error) {
    throw new AppError(
      'BAD_GATEWAY',
      `cannot read the gap's first events from the event hub: ${describe(error)}`,
    );
  } finally {
    await client.close().catch(() => {});
  }
}

const rangeLine = (f: Pick<Fill, 'partitionId' | 'from' | 'to'>) => `${f.partitionId}: ${f.from}–${f.to}`;

/**
 * Fills the gaps the person saw: makes the plan again, refuses when it changed or cannot be filled,
 * then starts a replay of exactly L+1..C-1 per partition into the topic's own layout (a one-off run
 * with its own checkpoints: the topic's are not touched).
 */
export async function fillRollbackGap(
  services: CutoverServices,
  input: FillGapInput,
  who: Actor,
): Promise<{ plan: RollbackPlan; replay: ReplayView }> {
  const { topic, config, plan, fills } = await rollback(services, input);
  if (plan.blockers.length > 0)
    throw new AppError('CONFLICT', `the gap cannot be filled: ${plan.blockers.join('; ')}`);
  const shown = input.expected.map(rangeLine).sort().join(', ');
  const now = rollbackGaps(plan.partitions).map(rangeLine).sort().join(', ');
  if (shown !== now)
    throw new AppError(
      'CONFLICT',
      `the gap changed since the plan was shown (${shown || 'none'} → ${now}): scan again`,
    );
  const to = new Date();
  const from = await firstEnqueued(config, fills);
  const replay = await startReplay(
    services,
    {
      topic: topic.slug,
      // The events were enqueued before now: a window that holds them all, each partition bounded by sequence.
      from: new Date(Math.min(from.getTime(), to.getTime() - 1)).toISOString(),
      to: to.toISOString(),
      startSequences: Object.fromEntries(fills.map((f) => [f.partitionId, f.from])),
      endSequences: Object.fromEntries(fills.map((f) => [f.partitionId, f.to])),
      target: { kind: 'ownLayout' },
    },
    who,
  );
  await auditTopic(services.prisma, who, 'cutover.fillGap', topic, {
    container: input.container,
    pathFormat: input.pathFormat,
    replay: replay.id,
    partitions: fills,
  });
  return { plan, replay };
}
