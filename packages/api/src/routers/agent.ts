import {
  AgentConfigResponse,
  AgentReplayResponse,
  AgentReport,
  ReplayProgress,
  ReplayRun,
  ReportAck,
} from '@hubcap/shared';
import { z } from 'zod';
import { AppError } from '../errors.ts';
import { agentReplay, recordReplayProgress } from '../services/replay/replay.ts';
import { ingestReport } from '../services/telemetry/reports.ts';
import { loadAgentConfig } from '../services/topics/topic-configs.ts';
import { agentProcedure, router } from '../trpc.ts';

/** What agents call with their bearer token. A token only ever sees its own topic. */
export const agentRouter = router({
  report: agentProcedure
    .input(AgentReport)
    .output(ReportAck)
    .mutation(({ ctx, input }) => ingestReport(ctx.prisma, ctx.agent, input)),
  config: agentProcedure.output(AgentConfigResponse).query(({ ctx }) => {
    if (!ctx.agent.configAccess) {
      throw new AppError(
        'FORBIDDEN',
        'this token was minted by a person for a hand-run agent: it may report, but only agents the control plane deploys receive the config with its secrets; give a hand-run agent its config file',
      );
    }
    return loadAgentConfig(ctx.prisma, ctx.secrets, ctx.agent.topicId);
  }),
  /** A replay run's window and config (the run is told its id; its token is its own). */
  replay: agentProcedure
    .input(z.strictObject({ id: ReplayRun.shape.id }))
    .output(AgentReplayResponse)
    .query(({ ctx, input }) => agentReplay(ctx, ctx.agent, input.id)),
  replayProgress: agentProcedure
    .input(ReplayProgress)
    .output(z.strictObject({ cancelled: z.boolean() }))
    .mutation(({ ctx, input }) => recordReplayProgress(ctx, ctx.agent, input)),
});
