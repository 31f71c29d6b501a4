import { ReplayRequest, ReplayView, TopicName } from '@hubcap/shared';
import { z } from 'zod';
import { userActor } from '../services/audit.ts';
import { cancelReplay, listReplays, startReplay } from '../services/replay/replay.ts';
import { editorProcedure, router, viewerProcedure } from '../trpc.ts';

const ReplayId = z.string().regex(/^[a-z0-9]{1,40}$/, 'must be a replay id');

/** Replays and backfills of a topic's window (see docs/replay.md). */
export const replayRouter = router({
  list: viewerProcedure
    .input(z.strictObject({ name: TopicName }))
    .output(z.array(ReplayView))
    .query(({ ctx, input }) => listReplays(ctx, input.name)),
  /** Refused up front when the window is in the future or older than the hub's retention. */
  start: editorProcedure
    .input(ReplayRequest)
    .output(ReplayView)
    .mutation(({ ctx, input }) => startReplay(ctx, input, userActor(ctx.user))),
  cancel: editorProcedure
    .input(z.strictObject({ id: ReplayId }))
    .output(ReplayView)
    .mutation(({ ctx, input }) => cancelReplay(ctx, input.id, userActor(ctx.user))),
});
