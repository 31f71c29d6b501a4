import { AgentReport } from '@hubcap/shared';
import { ingestReport } from '../services/reports.ts';
import { loadAgentConfig } from '../services/topic-configs.ts';
import { agentProcedure, router } from '../trpc.ts';

/** What agents call with their bearer token. A token only ever sees its own topic. */
export const agentRouter = router({
  report: agentProcedure
    .input(AgentReport)
    .mutation(({ ctx, input }) => ingestReport(ctx.prisma, ctx.agent, input)),
  config: agentProcedure.query(({ ctx }) => loadAgentConfig(ctx.prisma, ctx.secrets, ctx.agent.topicId)),
});
