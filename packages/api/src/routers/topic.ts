import { listTopics } from '../services/topics.ts';
import { router, viewerProcedure } from '../trpc.ts';

export const topicRouter = router({
  list: viewerProcedure.query(({ ctx }) => listTopics(ctx.prisma)),
});
