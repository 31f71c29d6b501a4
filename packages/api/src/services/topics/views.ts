import { z } from 'zod';
import type { previewEvents, testConnection } from './connection.ts';
import type { listConfigVersions, sourceInUse } from './topics.ts';

type Result<F extends (...args: never[]) => unknown> = Awaited<ReturnType<F>>;

/** The topic's config versions, newest first, with what each changed (secrets by name only). */
export const ConfigVersions: z.ZodType<Result<typeof listConfigVersions>> = z.array(
  z.object({
    version: z.number(),
    createdAt: z.string(),
    createdBy: z.string().nullable(),
    changes: z.array(z.object({ path: z.string(), before: z.unknown(), after: z.unknown() })),
    secretsChanged: z.array(z.string()),
  }),
);

/** The other topic that already reads a source, or null. */
export const SourceTaken: z.ZodType<Result<typeof sourceInUse>> = z
  .object({ topic: z.string(), message: z.string() })
  .nullable();

export const TopicCreated = z.object({ id: z.string(), name: z.string() });

/** A save: the version it made, what changed, and what happened to a deployed topic's agents. */
export const TopicSaved = z.object({
  version: z.number(),
  changes: z.array(z.object({ path: z.string(), before: z.unknown(), after: z.unknown() })),
  secretsChanged: z.array(z.string()),
  unchanged: z.boolean(),
  rollout: z
    .object({
      outcome: z.enum(['applied', 'failed', 'notDeployed']),
      message: z.string(),
      phase: z.string().nullable(),
    })
    .nullable(),
});

export const ConnectionTest: z.ZodType<Result<typeof testConnection>> = z.object({
  ok: z.boolean(),
  checks: z.array(z.object({ name: z.string(), state: z.enum(['ok', 'warn', 'fail']), detail: z.string() })),
  partitions: z.array(
    z.object({
      partitionId: z.string(),
      beginningSequenceNumber: z.number(),
      lastEnqueuedSequenceNumber: z.number(),
      lastEnqueuedAt: z.string().nullable(),
      isEmpty: z.boolean(),
    }),
  ),
});

export const EventPreview: z.ZodType<Result<typeof previewEvents>> = z.object({
  events: z.array(
    z.object({
      partitionId: z.string(),
      sequenceNumber: z.number(),
      enqueuedAt: z.string(),
      text: z.string(),
      isJson: z.boolean(),
    }),
  ),
  fields: z.array(z.object({ path: z.string(), types: z.array(z.string()), seen: z.number() })),
  partitions: z.number(),
});

/** A hand-run agent's token, shown once. */
export const IssuedToken = z.object({ agentId: z.string(), token: z.string() });
