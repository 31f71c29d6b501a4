import {
  CaptureLocation,
  ContinuityReport,
  CutoverApplyInput,
  CutoverDirection,
  CutoverPlan,
} from '@hubcap/shared';
import { z } from 'zod';
import { userActor } from '../services/audit.ts';
import { cutoverPlan, cutoverReport, startCutover } from '../services/cutover/cutover.ts';
import { editorProcedure, router, viewerProcedure } from '../trpc.ts';

/** Cutover from Event Hubs Capture to a topic's agents (and the report for a rollback). */
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
});
