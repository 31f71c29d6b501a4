import { SchemaField } from '@hubcap/shared';
import { z } from 'zod';

/** What the topic page's schema section shows. */
const ChangeSummary = z.object({
  added: z.number(),
  removed: z.number(),
  widened: z.number(),
  changed: z.number(),
});

const VersionSummary = z.object({
  version: z.number(),
  fingerprint: z.string(),
  fieldCount: z.number(),
  firstSeenAt: z.string(),
  recordedAt: z.string(),
  path: z.string(),
  partitionId: z.string(),
  reportedBy: z.string(),
  changes: ChangeSummary.nullable(),
  changeText: z.string(),
  acknowledged: z.boolean(),
});

export const SchemaOverview = z.object({
  total: z.number(),
  versions: z.array(VersionSummary),
  notice: z
    .object({
      version: z.number(),
      sinceVersion: z.number(),
      firstSeenAt: z.string(),
      versions: z.number(),
      changes: ChangeSummary,
      text: z.string(),
    })
    .nullable(),
});

export const SchemaVersionView = VersionSummary.extend({ fields: z.array(SchemaField) });

export const SchemaComparison = z.object({
  from: z.number(),
  to: z.number(),
  added: z.array(SchemaField),
  removed: z.array(SchemaField),
  changed: z.array(
    z.object({
      path: z.string(),
      from: z.string(),
      to: z.string(),
      kind: z.enum(['widened', 'changed']),
      absorbed: z.array(z.string()),
    }),
  ),
  summary: ChangeSummary,
  text: z.string(),
});

export const Acknowledged = z.object({ acknowledged: z.number() });
