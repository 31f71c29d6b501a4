import type { AgentLogLine, DeploymentStatus } from '@hubcap/deployer';
import { z } from 'zod';
import type { ReconcileProgress, TopicDeploymentView } from './deployments.ts';

export const Target = z.enum(['kubernetes', 'local']);
export const Phase = z.enum(['pending', 'applying', 'running', 'paused', 'failed', 'deleted']);

/** What the deployer says runs (Kubernetes or local processes). */
export const DeploymentStatusView: z.ZodType<DeploymentStatus> = z.object({
  target: Target,
  phase: Phase,
  desiredReplicas: z.number(),
  readyReplicas: z.number(),
  configVersion: z.number().nullable(),
  replicas: z.array(
    z.object({
      name: z.string(),
      phase: z.string(),
      ready: z.boolean(),
      restarts: z.number(),
      waitingReason: z.string().optional(),
      waitingMessage: z.string().optional(),
      lastTermination: z
        .object({
          reason: z.string(),
          exitCode: z.number().nullable(),
          message: z.string().optional(),
          finishedAt: z.string().optional(),
        })
        .optional(),
    }),
  ),
  message: z.string(),
  drift: z.array(z.string()),
  observedAt: z.string(),
});

/** The topic page's deployment panel: what was recorded, and what runs now. */
export const DeploymentView: z.ZodType<TopicDeploymentView> = z.object({
  topic: z.string(),
  record: z
    .object({
      target: z.string(),
      phase: z.string(),
      configVersion: z.number(),
      desiredReplicas: z.number(),
      readyReplicas: z.number(),
      message: z.string(),
      lastAppliedAt: z.date().nullable(),
    })
    .nullable(),
  live: DeploymentStatusView.nullable(),
  liveError: z.string().nullable(),
});

export const ReconcileProgressView: z.ZodType<ReconcileProgress> = z.object({
  state: z.enum(['idle', 'running', 'done']),
  total: z.number(),
  done: z.number(),
  failed: z.number(),
  drifted: z.number(),
  current: z.string().nullable(),
  startedAt: z.string().nullable(),
  finishedAt: z.string().nullable(),
});

export const LogLines: z.ZodType<AgentLogLine[]> = z.array(
  z.object({
    at: z.string(),
    source: z.string(),
    stream: z.enum(['stdout', 'stderr', 'runner']),
    line: z.string(),
  }),
);

export const ManifestsFile = z.object({ filename: z.string(), yaml: z.string() });
