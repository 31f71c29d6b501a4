import { AgentError, MeasuredRates } from '@hubcap/shared';
import { z } from 'zod';
import { PriceSettings } from '../accounts/settings.ts';
import { Phase, Target } from '../deployments/views.ts';
import { SchemaOverview } from '../schema/views.ts';
import type { fleetOverview, topicDetail } from './fleet.ts';
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

const NamespaceCost = z.object({
  namespace: z.string(),
  topics: z.array(z.string()),
  eventsPerSecond: z.number(),
  megabytesPerSecond: z.number(),
  throughputUnits: z.number(),
  throughputUnitsFrom: z.enum(['setting', 'traffic']),
  captureMonthly: z.number(),
  agentsMonthly: z.number(),
});

const CostAssumptions = PriceSettings.extend({ hoursPerMonth: z.number(), ingress: z.string() });

const CostOverview = z.object({
  namespaces: z.array(NamespaceCost),
  captureMonthly: z.number(),
  agentsMonthly: z.number(),
  savingMonthly: z.number(),
  assumptions: CostAssumptions,
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

const nullableString = z.string().nullable();
const nullableNumber = z.number().nullable();

const ScalingValues = z.object({ replicas: z.number(), cpu: z.string(), memory: z.string() });

/** A topic's measured peak rates, or why there are none to size from. */
export const Measurement = z.object({ rates: MeasuredRates.nullable(), problem: nullableString });

/** The recommended CPU and memory per replica, what it came from, and what the topic has. */
const TopicSizing = z.object({
  measurement: Measurement,
  advice: ScalingValues.extend({
    basis: z.enum(['measured', 'none', 'idle']),
    bytesPerSecond: z.number(),
    cpuSecondsPerGB: z.number(),
    cores: z.number(),
    sufficient: z.boolean(),
  }),
  scaling: ScalingValues,
  enough: z.boolean(),
});

/** The topic page: the fleet row's figures and everything behind them. */
export const TopicDetail: z.ZodType<Awaited<ReturnType<typeof topicDetail>>> = TopicSummary.extend({
  range: z.enum(['1h', '6h', '24h', '7d', '30d']),
  maxFileAgeSeconds: z.number(),
  sizing: TopicSizing.nullable(),
  lagTrend: z
    .object({
      arrivingPerSecond: z.number(),
      writtenPerSecond: z.number(),
      lagPerSecond: z.number(),
      catchUpSeconds: nullableNumber,
      windowSeconds: z.number(),
    })
    .nullable(),
  namespaceCost: NamespaceCost.nullable(),
  costAssumptions: CostAssumptions,
  partitions: z.array(
    z.object({
      partitionId: z.string(),
      lastEnqueuedSequenceNumber: nullableNumber,
      lastEnqueuedAt: nullableString,
      lastReceivedSequenceNumber: nullableNumber,
      lastReceivedAt: nullableString,
      lastCheckpointSequenceNumber: nullableNumber,
      lastCheckpointAt: nullableString,
      checkpointedAt: nullableString,
      probedAt: nullableString,
      lagEvents: z.number(),
      lagSeconds: z.number(),
      eventsPerSecond: z.number(),
      updatedAt: z.string(),
    }),
  ),
  series: z.array(
    z.object({
      t: z.string(),
      eventsPerSecond: z.number(),
      bytesPerSecond: z.number(),
      lagEvents: z.number(),
      lagSeconds: z.number(),
    }),
  ),
  recentFiles: z.array(
    z.object({
      id: z.string(),
      path: z.string(),
      partitionId: z.string(),
      events: z.number(),
      bytes: z.number(),
      firstSequenceNumber: z.number(),
      lastSequenceNumber: z.number(),
      committedAt: z.string(),
    }),
  ),
  recentErrors: z.array(
    z.object({
      id: z.string(),
      at: z.string(),
      kind: AgentError.shape.kind,
      message: z.string(),
      partitionId: nullableString,
      retryable: z.boolean(),
    }),
  ),
  replicas: z.array(
    z.object({
      replicaId: z.string(),
      startedAt: z.string(),
      lastSeenAt: z.string(),
      configVersion: nullableNumber,
      configIssue: z
        .object({ version: z.number(), kind: z.enum(['rejected', 'awaitingRestart']), reason: z.string() })
        .nullable(),
    }),
  ),
  agents: z.array(
    z.object({
      id: z.string(),
      name: z.string(),
      lastSeenAt: nullableString,
      agentVersion: nullableString,
      createdAt: z.string(),
    }),
  ),
  alerts: z.array(
    z.object({
      id: z.string(),
      kind: z.enum(['lag', 'silent', 'errors']),
      message: z.string(),
      openedAt: z.string(),
      resolvedAt: nullableString,
    }),
  ),
  deadLetters: z.object({
    total: z.number(),
    lastHour: z.number(),
    byReason: z.array(z.object({ reason: z.string(), count: z.number(), lastAt: z.string() })),
    location: nullableString,
  }),
  schema: SchemaOverview,
  deploymentDetail: z
    .object({
      target: Target,
      phase: Phase,
      message: z.string(),
      configVersion: z.number(),
      desiredReplicas: z.number(),
      readyReplicas: z.number(),
      lastAppliedAt: nullableString,
      updatedAt: z.string(),
    })
    .nullable(),
});

/** A subscription's stream, each value checked against `value` as it is sent. */
export function streamOf<Out, In>(value: z.ZodType<Out, In>) {
  return z
    .custom<AsyncIterable<In>>((v) => typeof v === 'object' && v !== null && Symbol.asyncIterator in v)
    .transform(async function* (stream) {
      for await (const item of stream) yield value.parse(item);
    });
}
