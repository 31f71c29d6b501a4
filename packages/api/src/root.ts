import { agentRouter } from './routers/agent.ts';
import { authRouter } from './routers/auth.ts';
import { completenessRouter } from './routers/completeness.ts';
import { cutoverRouter } from './routers/cutover.ts';
import { deploymentRouter } from './routers/deployment.ts';
import { alertRouter, auditRouter, settingsRouter } from './routers/ops.ts';
import { replayRouter } from './routers/replay.ts';
import { schemaRouter } from './routers/schema.ts';
import { topicRouter } from './routers/topic.ts';
import { userRouter } from './routers/user.ts';
import { router } from './trpc.ts';

export const appRouter = router({
  auth: authRouter,
  topic: topicRouter,
  schema: schemaRouter,
  agent: agentRouter,
  deployment: deploymentRouter,
  user: userRouter,
  alert: alertRouter,
  settings: settingsRouter,
  audit: auditRouter,
  completeness: completenessRouter,
  cutover: cutoverRouter,
  replay: replayRouter,
});

export type AppRouter = typeof appRouter;
