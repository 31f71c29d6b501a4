import {
  CaptureLocation,
  ContinuityReport,
  CutoverApplyInput,
  CutoverDirection,
  CutoverPlan,
  FillGapInput,
  ReplayView,
  RollbackPlan,
} from '@hubcap/shared';
import { z } from 'zod';
import { userActor } from '../services/audit.ts';
import { cutoverPlan, cutoverReport, startCutover } from '../services/cutover/cutover.ts';
import { fillRollbackGap, rollbackPlan } from '../services/cutover/rollback.ts';
import { editorProcedure, router, viewerProcedure } from '../trpc.ts';

/** Cutover from Event Hubs Capture to a topic's agents, and the rollback to Capture without a gap. */
export const cutoverRouter = router({
  /** Scans Capture's files: per partition its last event and Hubcap's first. Starts nothing. */
  plan: viewerProcedure
    .input(CaptureLocation)
    .output(CutoverPlan)
    .query(({ ctx, input }) => cutoverPlan(ctx, input)),
  /** Seeds the topic's checkpoints at Capture's last events, exactly as planned, and deploys it. */
  start: editorProcedure
    .input(CutoverApplyInput)
    .output(
      z.object({
        plan: CutoverPlan,
        deployment: z.object({ phase: z.string(), message: z.string() }).nullable(),
      }),
    )
    .mutation(({ ctx, input }) => startCutover(ctx, input, userActor(ctx.user))),
  /** Continuity per partition from both sides' files, after a cutover or a rollback. */
  report: viewerProcedure
    .input(CaptureLocation.extend({ direction: CutoverDirection.default('toHubcap') }))
    .output(ContinuityReport)
    .query(({ ctx, input }) => cutoverReport(ctx, input)),
  /** After a rollback to Capture: per partition Hubcap's last, Capture's first and the gap between. */
  rollbackPlan: viewerProcedure
    .input(CaptureLocation)
    .output(RollbackPlan)
    .query(({ ctx, input }) => rollbackPlan(ctx, input)),
  /** Replays exactly the gap of the plan shown (Hubcap's last + 1 to Capture's first - 1) into the topic's layout. */
  fillGap: editorProcedure
    .input(FillGapInput)
    .output(z.object({ plan: RollbackPlan, replay: ReplayView }))
    .mutation(({ ctx, input }) => fillRollbackGap(ctx, input, userActor(ctx.user))),
});
