import { agentRouter } from './routers/agent.ts';
import { authRouter } from './routers/auth.ts';
import { topicRouter } from './routers/topic.ts';
import { router } from './trpc.ts';

export const appRouter = router({
  auth: authRouter,
  topic: topicRouter,
  agent: agentRouter,
});

export type AppRouter = typeof appRouter;
