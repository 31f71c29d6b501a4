import { TopicName } from '@hubcap/shared';
import { z } from 'zod';
import { userActor } from '../services/audit.ts';
import {
  acknowledgeSchemaChange,
  compareSchemaVersions,
  getSchemaVersion,
  schemaOverview,
} from '../services/schema/schema-history.ts';
import {
  Acknowledged,
  SchemaComparison,
  SchemaOverview,
  SchemaVersionView,
} from '../services/schema/views.ts';
import { topicIdForSlug } from '../services/topics/topics.ts';
import { editorProcedure, router, viewerProcedure } from '../trpc.ts';

const Version = z
  .number({ error: 'must be a version number' })
  .int('must be a whole number')
  .min(1, 'must be 1 or more')
  .max(1_000_000, 'is not a version number');

/** A topic's schema history (Parquet topics): agents report versions, people read and acknowledge them. */
export const schemaRouter = router({
  listVersions: viewerProcedure
    .input(z.strictObject({ name: TopicName }))
    .output(SchemaOverview)
    .query(async ({ ctx, input }) =>
      schemaOverview(ctx.prisma, await topicIdForSlug(ctx.prisma, input.name)),
    ),

  getVersion: viewerProcedure
    .input(z.strictObject({ name: TopicName, version: Version }))
    .output(SchemaVersionView)
    .query(async ({ ctx, input }) =>
      getSchemaVersion(ctx.prisma, await topicIdForSlug(ctx.prisma, input.name), input.version),
    ),

  compareVersions: viewerProcedure
    .input(z.strictObject({ name: TopicName, from: Version, to: Version }))
    .output(SchemaComparison)
    .query(async ({ ctx, input }) =>
      compareSchemaVersions(ctx.prisma, await topicIdForSlug(ctx.prisma, input.name), input.from, input.to),
    ),

  /** Clears the schema-change notice up to `version` for everyone; editors and admins only. */
  acknowledgeChange: editorProcedure
    .input(z.strictObject({ name: TopicName, version: Version }))
    .output(Acknowledged)
    .mutation(async ({ ctx, input }) =>
      acknowledgeSchemaChange(
        ctx.prisma,
        await topicIdForSlug(ctx.prisma, input.name),
        input.version,
        userActor(ctx.user),
      ),
    ),
});
