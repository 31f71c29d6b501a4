import { TopicConfig, TopicName } from '@hubcap/shared';
import { z } from 'zod';
import { AppError } from '../errors.ts';
import { userActor } from '../services/audit.ts';
import { previewEvents, testConnection } from '../services/connection.ts';
import { CHART_RANGES, fleetOverview, topicDetail, topicVersionStamp } from '../services/fleet.ts';
import { fillKeptSecrets, openSecrets } from '../services/topic-configs.ts';
import {
  agentReading,
  createTopic,
  deleteTopic,
  getTopicConfig,
  issueAgentToken,
  listConfigVersions,
  revokeAgentToken,
  topicIdForSlug,
  updateTopic,
} from '../services/topics.ts';
import { editorProcedure, router, viewerProcedure } from '../trpc.ts';

/** A config document as a form sends it; validated against TopicConfig by the service (blank secrets = keep). */
const ConfigDraft = z.record(z.string(), z.unknown(), { error: 'config must be an object' });
const ByName = z.strictObject({ name: TopicName });
const Range = z.enum(CHART_RANGES, { error: `must be one of ${CHART_RANGES.join(', ')}` }).default('1h');

const WATCH_INTERVAL_MS = 2_000;

export const topicRouter = router({
  list: viewerProcedure.query(({ ctx }) => fleetOverview(ctx.prisma)),

  get: viewerProcedure
    .input(z.strictObject({ name: TopicName, range: Range }))
    .query(async ({ ctx, input }) =>
      topicDetail(ctx.prisma, await topicIdForSlug(ctx.prisma, input.name), input.range),
    ),

  /** Live topic page: a fresh snapshot whenever a report, an edit, a deployment or an alert touches the topic. */
  watch: viewerProcedure
    .input(z.strictObject({ name: TopicName, range: Range }))
    .subscription(async function* ({ ctx, input, signal }) {
      const topicId = await topicIdForSlug(ctx.prisma, input.name);
      let last = '';
      while (!signal?.aborted) {
        const stamp = await topicVersionStamp(ctx.prisma, topicId);
        if (stamp !== last) {
          last = stamp;
          yield await topicDetail(ctx.prisma, topicId, input.range);
        }
        await new Promise((resolve) => {
          const timer = setTimeout(resolve, WATCH_INTERVAL_MS);
          signal?.addEventListener('abort', () => {
            clearTimeout(timer);
            resolve(undefined);
          });
        });
      }
    }),

  getConfig: editorProcedure
    .input(ByName)
    .query(async ({ ctx, input }) =>
      getTopicConfig(ctx.prisma, await topicIdForSlug(ctx.prisma, input.name)),
    ),

  listVersions: viewerProcedure
    .input(ByName)
    .query(async ({ ctx, input }) =>
      listConfigVersions(ctx.prisma, await topicIdForSlug(ctx.prisma, input.name)),
    ),

  create: editorProcedure
    .input(z.strictObject({ config: ConfigDraft }))
    .mutation(({ ctx, input }) => createTopic(ctx.prisma, ctx.secrets, input.config, userActor(ctx.user))),

  update: editorProcedure
    .input(z.strictObject({ name: TopicName, config: ConfigDraft }))
    .mutation(async ({ ctx, input }) =>
      updateTopic(
        ctx.prisma,
        ctx.secrets,
        await topicIdForSlug(ctx.prisma, input.name),
        input.config,
        userActor(ctx.user),
      ),
    ),

  /** Deletes the topic and its history; files already written stay. Its agent must be removed first. */
  delete: editorProcedure
    .input(ByName)
    .mutation(async ({ ctx, input }) =>
      deleteTopic(ctx.prisma, await topicIdForSlug(ctx.prisma, input.name), userActor(ctx.user)),
    ),

  /** Checks a draft config server-side; `name` lets an edit reuse the stored secrets. */
  testConnection: editorProcedure
    .input(z.strictObject({ config: ConfigDraft, name: TopicName.optional() }))
    .mutation(async ({ ctx, input }) => {
      const config = await draftConfig(ctx, input);
      // On an edit page, the topic's own running agent holds the partitions: that is no failure.
      const ownAgentReading = input.name
        ? await agentReading(ctx.prisma, await topicIdForSlug(ctx.prisma, input.name))
        : false;
      return testConnection(config, { ownAgentReading });
    }),

  preview: editorProcedure
    .input(z.strictObject({ config: ConfigDraft, name: TopicName.optional() }))
    .mutation(async ({ ctx, input }) => {
      const config = await draftConfig(ctx, input);
      try {
        return await previewEvents(config);
      } catch (error) {
        throw new AppError(
          'BAD_REQUEST',
          `could not read events: ${(error as Error).message.split('\n')[0]}`,
        );
      }
    }),

  /** A bearer token for an agent run by hand; shown once, stored hashed. */
  createAgentToken: editorProcedure
    .input(
      z.strictObject({
        name: TopicName,
        agentName: z.string().trim().min(1, 'agent name is required').max(100),
      }),
    )
    .mutation(async ({ ctx, input }) => {
      const topicId = await topicIdForSlug(ctx.prisma, input.name);
      const issued = await issueAgentToken(ctx.prisma, topicId, input.agentName);
      await ctx.prisma.auditEvent.create({
        data: {
          actor: `user:${ctx.user.id}`,
          actorId: ctx.user.id,
          action: 'agent.createToken',
          targetType: 'topic',
          targetId: topicId,
          details: { agentId: issued.agentId, agentName: input.agentName },
        },
      });
      return issued;
    }),

  revokeAgentToken: editorProcedure
    .input(z.strictObject({ name: TopicName, agentId: z.string().min(1).max(100) }))
    .mutation(async ({ ctx, input }) =>
      revokeAgentToken(
        ctx.prisma,
        await topicIdForSlug(ctx.prisma, input.name),
        input.agentId,
        userActor(ctx.user),
      ),
    ),
});

async function draftConfig(
  ctx: { prisma: Parameters<typeof openSecrets>[0]; secrets: Parameters<typeof openSecrets>[1] },
  input: { config: Record<string, unknown>; name?: string },
): Promise<TopicConfig> {
  const stored = input.name
    ? await openSecrets(ctx.prisma, ctx.secrets, await topicIdForSlug(ctx.prisma, input.name))
    : new Map<string, string>();
  return TopicConfig.parse(fillKeptSecrets(input.config, stored));
}
