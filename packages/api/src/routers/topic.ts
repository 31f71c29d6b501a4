import { keepStoredSecrets, SECRET_FIELDS, TopicConfig, TopicName } from '@hubcap/shared';
import { z } from 'zod';
import type { ApiContext } from '../context.ts';
import { AppError } from '../errors.ts';
import { audit, userActor } from '../services/audit.ts';
import { applySavedConfig } from '../services/deployments/deployments.ts';
import { CHART_RANGES, fleetOverview, topicDetail, topicVersionStamp } from '../services/telemetry/fleet.ts';
import { measuredRates } from '../services/telemetry/sizing.ts';
import { FleetOverview, Measurement, streamOf, TopicDetail } from '../services/telemetry/views.ts';
import { connectionFailure, previewEvents, testConnection } from '../services/topics/connection.ts';
import { assertPolicy } from '../services/topics/policy.ts';
import { openSecrets } from '../services/topics/topic-configs.ts';
import {
  agentReading,
  createTopic,
  deleteTopic,
  getTopicConfig,
  issueAgentToken,
  listConfigVersions,
  revokeAgentToken,
  sourceInUse,
  topicIdForSlug,
  updateTopic,
} from '../services/topics/topics.ts';
import {
  ConfigVersions,
  ConnectionTest,
  EventPreview,
  IssuedToken,
  SourceTaken,
  TopicCreated,
  TopicSaved,
} from '../services/topics/views.ts';
import { adminProcedure, editorProcedure, router, viewerProcedure } from '../trpc.ts';

/** A config is 4 levels deep; deeper drafts are refused before anything walks them recursively. */
const MAX_CONFIG_DEPTH = 8;

/** Nesting depth of a JSON value, without recursion (a hostile document may be 20,000 levels deep). */
function depth(value: unknown): number {
  let deepest = 0;
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length > 0) {
    const [node, level] = stack.pop()!;
    if (node === null || typeof node !== 'object') continue;
    deepest = Math.max(deepest, level);
    if (deepest > MAX_CONFIG_DEPTH) return deepest;
    for (const child of Object.values(node)) stack.push([child, level + 1]);
  }
  return deepest;
}

/** A config document as a form sends it; validated against TopicConfig by the service (blank secrets = keep). */
const ConfigDraft = z
  .record(z.string().max(100), z.unknown(), { error: 'config must be an object' })
  .refine(
    (doc) => depth(doc) <= MAX_CONFIG_DEPTH,
    `must not be nested deeper than ${MAX_CONFIG_DEPTH} levels`,
  );
const ByName = z.strictObject({ name: TopicName });
/** A stored config for the edit form: its secrets blank, with the paths of those kept if left blank. */
const EditableConfig = z.strictObject({
  id: z.string(),
  name: TopicName,
  version: z.number().int().positive(),
  config: ConfigDraft,
  storedSecrets: z.array(z.enum(SECRET_FIELDS.map((f) => f.path))),
});
const Range = z.enum(CHART_RANGES, { error: `must be one of ${CHART_RANGES.join(', ')}` }).default('1h');

const WATCH_INTERVAL_MS = 2_000;

/** Each live topic page holds a stream and polls the database; a person needs a few, not hundreds. */
const MAX_LIVE_STREAMS_PER_USER = 8;
const liveStreams = new Map<string, number>();

/** A fresh snapshot whenever a report, an edit, a deployment or an alert touches the topic. */
async function* watchTopic(
  prisma: ApiContext['prisma'],
  topicId: string,
  range: (typeof CHART_RANGES)[number],
  signal: AbortSignal | undefined,
) {
  let last = '';
  while (!signal?.aborted) {
    const stamp = await topicVersionStamp(prisma, topicId);
    if (stamp !== last) {
      last = stamp;
      yield await topicDetail(prisma, topicId, range);
    }
    await new Promise((resolve) => {
      const timer = setTimeout(resolve, WATCH_INTERVAL_MS);
      signal?.addEventListener('abort', () => {
        clearTimeout(timer);
        resolve(undefined);
      });
    });
  }
}

export const topicRouter = router({
  list: viewerProcedure.output(FleetOverview).query(({ ctx }) => fleetOverview(ctx.prisma)),

  get: viewerProcedure
    .input(z.strictObject({ name: TopicName, range: Range }))
    .output(TopicDetail)
    .query(async ({ ctx, input }) =>
      topicDetail(ctx.prisma, await topicIdForSlug(ctx.prisma, input.name), input.range),
    ),

  /** Live topic page: a fresh snapshot whenever a report, an edit, a deployment or an alert touches the topic. */
  watch: viewerProcedure
    .input(z.strictObject({ name: TopicName, range: Range }))
    .output(streamOf(TopicDetail))
    .subscription(async function* ({ ctx, input, signal }) {
      const topicId = await topicIdForSlug(ctx.prisma, input.name);
      const open = liveStreams.get(ctx.user.id) ?? 0;
      if (open >= MAX_LIVE_STREAMS_PER_USER) {
        throw new AppError(
          'TOO_MANY_REQUESTS',
          `at most ${MAX_LIVE_STREAMS_PER_USER} live topic pages per account; close some tabs`,
        );
      }
      liveStreams.set(ctx.user.id, open + 1);
      try {
        yield* watchTopic(ctx.prisma, topicId, input.range, signal);
      } finally {
        const left = (liveStreams.get(ctx.user.id) ?? 1) - 1;
        if (left > 0) liveStreams.set(ctx.user.id, left);
        else liveStreams.delete(ctx.user.id);
      }
    }),

  /** The peak rates a topic's agents reported lately, for the form's CPU and memory recommendation. */
  getMeasuredRates: viewerProcedure
    .input(ByName)
    .output(Measurement)
    .query(async ({ ctx, input }) => measuredRates(ctx.prisma, await topicIdForSlug(ctx.prisma, input.name))),

  getConfig: editorProcedure
    .input(ByName)
    .output(EditableConfig)
    .query(async ({ ctx, input }) =>
      getTopicConfig(ctx.prisma, await topicIdForSlug(ctx.prisma, input.name)),
    ),

  /**
   * Which other topic already reads the draft's (namespace, event hub, consumer group), if any. A
   * mutation only so that a draft's connection string travels in a POST body, never in a URL.
   */
  sourceInUse: editorProcedure
    .input(z.strictObject({ config: ConfigDraft, name: TopicName.optional() }))
    .output(SourceTaken)
    .mutation(async ({ ctx, input }) => {
      const topicId = input.name ? await topicIdForSlug(ctx.prisma, input.name) : null;
      const stored = topicId
        ? await openSecrets(ctx.prisma, ctx.secrets, topicId)
        : new Map<string, string>();
      return sourceInUse(ctx.prisma, keepStoredSecrets(input.config, stored), topicId);
    }),

  listVersions: viewerProcedure
    .input(ByName)
    .output(ConfigVersions)
    .query(async ({ ctx, input }) =>
      listConfigVersions(ctx.prisma, await topicIdForSlug(ctx.prisma, input.name)),
    ),

  create: editorProcedure
    .input(z.strictObject({ config: ConfigDraft }))
    .output(TopicCreated)
    .mutation(({ ctx, input }) =>
      createTopic(ctx.prisma, ctx.secrets, input.config, userActor(ctx.user), ctx.policy),
    ),

  /** Saves a new version and, on a deployed topic, applies it (saved means applied, or says why not). */
  update: editorProcedure
    .input(z.strictObject({ name: TopicName, config: ConfigDraft }))
    .output(TopicSaved)
    .mutation(async ({ ctx, input }) => {
      const saved = await updateTopic(
        ctx.prisma,
        ctx.secrets,
        await topicIdForSlug(ctx.prisma, input.name),
        input.config,
        userActor(ctx.user),
        ctx.policy,
      );
      if (saved.unchanged) return { ...saved, rollout: null };
      return { ...saved, rollout: await applySavedConfig(ctx, input.name, userActor(ctx.user)) };
    }),

  /** Deletes the topic and its history; files already written stay. Its agent must be removed first. */
  delete: editorProcedure
    .input(ByName)
    .output(z.void())
    .mutation(async ({ ctx, input }) =>
      deleteTopic(ctx.prisma, await topicIdForSlug(ctx.prisma, input.name), userActor(ctx.user)),
    ),

  /** Checks a draft config server-side; `name` lets an edit reuse the stored secrets. */
  testConnection: editorProcedure
    .input(z.strictObject({ config: ConfigDraft, name: TopicName.optional() }))
    .output(ConnectionTest)
    .mutation(async ({ ctx, input }) => {
      const config = await draftConfig(ctx, input);
      const topicId = input.name ? await topicIdForSlug(ctx.prisma, input.name) : null;
      // On an edit page, the topic's own running agent holds the partitions: that is no failure.
      const ownAgentReading = topicId ? await agentReading(ctx.prisma, topicId) : false;
      const [result, taken] = await Promise.all([
        testConnection(config, { ownAgentReading }),
        sourceInUse(ctx.prisma, config, topicId),
      ]);
      if (!taken) return result;
      const shared = { name: 'Consumer group', state: 'fail' as const, detail: taken.message };
      return { ...result, ok: false, checks: [shared, ...result.checks] };
    }),

  preview: editorProcedure
    .input(z.strictObject({ config: ConfigDraft, name: TopicName.optional() }))
    .output(EventPreview)
    .mutation(async ({ ctx, input }) => {
      const config = await draftConfig(ctx, input);
      try {
        return await previewEvents(config);
      } catch (error) {
        throw new AppError('BAD_REQUEST', `could not read events: ${connectionFailure(error, config)}`);
      }
    }),

  /**
   * A bearer token for an agent run by hand; shown once, stored hashed. Admins only, and the token only
   * reports: it cannot read the topic's config with its secrets (only the deployer's tokens can).
   */
  createAgentToken: adminProcedure
    .input(
      z.strictObject({
        name: TopicName,
        agentName: z.string().trim().min(1, 'agent name is required').max(100),
      }),
    )
    .output(IssuedToken)
    .mutation(async ({ ctx, input }) => {
      const topicId = await topicIdForSlug(ctx.prisma, input.name);
      const issued = await issueAgentToken(ctx.prisma, topicId, input.agentName);
      await audit(
        ctx.prisma,
        userActor(ctx.user),
        'agent.createToken',
        { type: 'topic', id: topicId },
        { agentId: issued.agentId, agentName: input.agentName },
      );
      return issued;
    }),

  revokeAgentToken: editorProcedure
    .input(z.strictObject({ name: TopicName, agentId: z.string().min(1).max(100) }))
    .output(z.void())
    .mutation(async ({ ctx, input }) =>
      revokeAgentToken(
        ctx.prisma,
        await topicIdForSlug(ctx.prisma, input.name),
        input.agentId,
        userActor(ctx.user),
      ),
    ),
});

/** The draft with its kept secrets, refused before any connection when the policy forbids where it points. */
async function draftConfig(
  ctx: Pick<ApiContext, 'prisma' | 'secrets' | 'policy'>,
  input: { config: Record<string, unknown>; name?: string },
): Promise<TopicConfig> {
  const stored = input.name
    ? await openSecrets(ctx.prisma, ctx.secrets, await topicIdForSlug(ctx.prisma, input.name))
    : new Map<string, string>();
  const config = TopicConfig.parse(keepStoredSecrets(input.config, stored));
  assertPolicy(config, ctx.policy);
  return config;
}
