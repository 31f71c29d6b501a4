import { TopicName } from '@hubcap/shared';
import { z } from 'zod';
import { completenessGrid } from '../services/completeness/grid.ts';
import { topicIdForSlug } from '../services/topics/topics.ts';
import { router, viewerProcedure } from '../trpc.ts';

const State = z.enum(['complete', 'open', 'empty', 'gap', 'lost-at-source']);

export const CompletenessGridOutput = z.strictObject({
  window: z.enum(['hour', 'day', 'month', 'year']).nullable(),
  partitions: z.array(z.string()),
  windows: z.array(
    z.strictObject({
      start: z.string(),
      end: z.string(),
      completedAt: z.string().nullable(),
      freshnessSeconds: z.number().nullable(),
      cells: z.array(
        z.strictObject({ partition: z.string(), state: State, events: z.number(), lost: z.number() }),
      ),
    }),
  ),
});

/** Completeness of a topic's windows, read from the manifests its agents write beside the data. */
export const completenessRouter = router({
  grid: viewerProcedure
    .input(
      z.strictObject({
        name: TopicName,
        days: z
          .number({ error: 'must be a number of days' })
          .int('must be a whole number')
          .min(1, 'must be 1 to 7')
          .max(7, 'must be 1 to 7')
          .default(1),
      }),
    )
    .output(CompletenessGridOutput)
    .query(async ({ ctx, input }) =>
      completenessGrid(ctx.prisma, ctx.secrets, ctx.policy, await topicIdForSlug(ctx.prisma, input.name), {
        days: input.days,
      }),
    ),
});
