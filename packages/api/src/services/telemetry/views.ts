import { z } from 'zod';
import { PriceSettings } from '../accounts/settings.ts';
import type { fleetOverview } from './fleet.ts';
import { TOPIC_STATUSES } from './status.ts';

const TopicSummary = z.object({
  id: z.string(),
  name: z.string(),
  status: z.enum(TOPIC_STATUSES),
  statusReason: z.string(),
  sourceSharedWith: z.string().nullable(),
  namespace: z.string().nullable(),
  desiredState: z.enum(['running', 'paused']),
  configVersion: z.number(),
  deployment: z
    .object({ phase: z.string(), readyReplicas: z.number(), desiredReplicas: z.number() })
    .nullable(),
  partitions: z.number(),
  lagEvents: z.number(),
  lagSeconds: z.number(),
  eventsPerSecond: z.number(),
  megabytesPerSecond: z.number(),
  lastCheckpointAt: z.string().nullable(),
  lastSeenAt: z.string().nullable(),
  filesPerHour: z.number(),
  eventsLastHour: z.number(),
  bytesLastHour: z.number(),
  recentErrors: z.number(),
  openAlerts: z.number(),
  deadLettered: z.number(),
  deadLetteredLastHour: z.number(),
  schemaChanges: z.number(),
  agentsMonthly: z.number(),
});

const CostOverview = z.object({
  namespaces: z.array(
    z.object({
      namespace: z.string(),
      topics: z.array(z.string()),
      eventsPerSecond: z.number(),
      megabytesPerSecond: z.number(),
      throughputUnits: z.number(),
      throughputUnitsFrom: z.enum(['setting', 'traffic']),
      captureMonthly: z.number(),
      agentsMonthly: z.number(),
    }),
  ),
  captureMonthly: z.number(),
  agentsMonthly: z.number(),
  savingMonthly: z.number(),
  assumptions: PriceSettings.extend({ hoursPerMonth: z.number(), ingress: z.string() }),
});

/** The fleet page: every topic's status and figures, totals and the cost estimate. */
export const FleetOverview: z.ZodType<Awaited<ReturnType<typeof fleetOverview>>> = z.object({
  topics: z.array(TopicSummary),
  totals: z.object({
    topics: z.number(),
    eventsPerSecond: z.number(),
    megabytesPerSecond: z.number(),
    captureMonthly: z.number(),
    agentsMonthly: z.number(),
    savingMonthly: z.number(),
  }),
  cost: CostOverview,
  generatedAt: z.string(),
});
