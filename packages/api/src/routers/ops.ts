import { TopicName } from '@hubcap/shared';
import { z } from 'zod';
import { AppError } from '../errors.ts';
import {
  getSettingsView,
  SettingsUpdate,
  SettingsView,
  setThroughputUnits,
  ThroughputUnits,
  ThroughputUnitsUpdate,
  updateSettings,
} from '../services/accounts/settings.ts';
import { AuditEventView, listAuditEvents, userActor } from '../services/audit.ts';
import { AlertView, listAlerts } from '../services/telemetry/alerts.ts';
import { webhookUrlProblem } from '../services/telemetry/webhook.ts';
import { adminProcedure, router, viewerProcedure } from '../trpc.ts';

export const alertRouter = router({
  list: viewerProcedure
    .input(
      z.strictObject({
        state: z.enum(['open', 'all'], { error: 'must be "open" or "all"' }).default('open'),
        limit: z.number().int().min(1).max(500).default(100),
      }),
    )
    .output(z.array(AlertView))
    .query(({ ctx, input }) => listAlerts(ctx.prisma, input)),
});

export const settingsRouter = router({
  get: viewerProcedure.output(SettingsView).query(({ ctx }) => getSettingsView(ctx.prisma)),
  update: adminProcedure
    .input(SettingsUpdate)
    .output(SettingsView)
    .mutation(({ ctx, input }) => {
      const problem =
        input.webhook.action === 'set' && webhookUrlProblem(input.webhook.url, ctx.policy.allowedEndpoints);
      if (problem) throw new AppError('BAD_REQUEST', `webhook URL ${problem}`);
      return updateSettings(ctx.prisma, ctx.secrets, input, userActor(ctx.user));
    }),
  /** The TUs a namespace's Capture estimate uses (null: from its measured ingress). */
  setThroughputUnits: adminProcedure
    .input(ThroughputUnitsUpdate)
    .output(ThroughputUnits)
    .mutation(({ ctx, input }) => setThroughputUnits(ctx.prisma, input, userActor(ctx.user))),
});

export const auditRouter = router({
  list: adminProcedure
    .input(
      z.strictObject({
        targetType: z.string().max(50).optional(),
        targetId: z.string().max(100).optional(),
        topic: TopicName.optional(),
        limit: z.number().int().min(1).max(500).default(100),
      }),
    )
    .output(z.array(AuditEventView))
    .query(({ ctx, input }) => listAuditEvents(ctx.prisma, input)),
});
