import { z } from 'zod';
import {
  namespaceName,
  renderPath,
  segmentFileName,
  type TimeBoundary,
  timeBoundary,
  timeBucket,
} from './path-template.ts';
import type { TopicConfig } from './topic-config.ts';

/**
 * Completeness manifests: the contract between the agent (writes them), `hubcap verify` (audits
 * them) and the control plane (shows them).
 *
 * A window is the coarsest time boundary of the topic's path template (the hour for `…/{HH}`): files
 * are placed by their first event's enqueued time, so every file belongs to exactly one window. Once a
 * partition's window is sealed, the agent writes `<window folder>/_hubcap/<partition>.manifest.json`
 * beside the data; once every partition sealed it, the topic marker (`_SUCCESS` by default). Readers of
 * the data never see them: Spark and Autoloader skip paths starting with `_`, and the names never end
 * with a data extension.
 */

export const MANIFEST_VERSION = 1;
/** The folder of manifests and lost-at-source records inside a window folder. */
export const MANIFEST_FOLDER = '_hubcap';
export const DEFAULT_MARKER_NAME = '_SUCCESS';

const Sequence = z
  .number()
  .int('must be a whole number')
  .nonnegative('must not be negative')
  .max(Number.MAX_SAFE_INTEGER, 'must be at most 2^53 - 1');
const Count = Sequence;
const Iso = z.iso.datetime({ error: 'must be an ISO 8601 UTC time' });

export const ManifestWindow = z.strictObject({ start: Iso, end: Iso });

export const ManifestFile = z.strictObject({
  /** Full name in the container (or under the local folder). */
  path: z.string().min(1).max(1024),
  kind: z.enum(['data', 'deadLetter']),
  firstSequence: Sequence,
  lastSequence: Sequence,
  events: Count,
  bytes: Count,
  /** Base64 MD5 of the file's bytes, as Azure's Content-MD5. */
  md5: z
    .string()
    .regex(/^[A-Za-z0-9+/]{22}==$/, 'must be a base64 MD5')
    .nullable(),
});

export const SequenceRange = z.strictObject({ firstSequence: Sequence, lastSequence: Sequence });

export const PartitionManifest = z
  .strictObject({
    version: z.literal(MANIFEST_VERSION),
    topic: z.string().min(1).max(40),
    partition: z.string().regex(/^[A-Za-z0-9_]{1,64}$/, 'must be a partition id (letters, digits, "_")'),
    window: ManifestWindow,
    /** First and last sequence number the window covers (files and lost ranges); null when empty. */
    sequences: SequenceRange.nullable(),
    events: Count,
    bytes: Count,
    files: z.array(ManifestFile).max(100_000),
    /** Ranges Event Hubs no longer held when the agent read past them (expired by retention). */
    lostAtSource: z.array(SequenceRange).max(100_000),
  })
  .meta({ description: 'What one partition landed in one window.' });
export type PartitionManifest = z.output<typeof PartitionManifest>;
export type ManifestFile = z.output<typeof ManifestFile>;
export type SequenceRange = z.output<typeof SequenceRange>;

export const TopicMarker = z.strictObject({
  version: z.literal(MANIFEST_VERSION),
  topic: z.string().min(1).max(40),
  window: ManifestWindow,
  partitions: z
    .array(
      z.strictObject({
        partition: z.string().min(1).max(64),
        sequences: SequenceRange.nullable(),
        events: Count,
        lostAtSource: Count,
      }),
    )
    .max(4096),
});
export type TopicMarker = z.output<typeof TopicMarker>;

/** The window `time` falls in, in epoch milliseconds; null for a template without time variables. */
export function windowOf(template: string, time: Date): { start: number; end: number } | null {
  const boundary = timeBoundary(template);
  if (boundary === 'none') return null;
  const start = timeBucket(boundary, time);
  return { start, end: nextBucket(boundary, start) };
}

function nextBucket(boundary: Exclude<TimeBoundary, 'none'>, start: number): number {
  const t = new Date(start);
  const [y, m, d, h] = [t.getUTCFullYear(), t.getUTCMonth(), t.getUTCDate(), t.getUTCHours()];
  switch (boundary) {
    case 'year':
      return Date.UTC(y + 1, 0);
    case 'month':
      return Date.UTC(y, m + 1);
    case 'day':
      return Date.UTC(y, m, d + 1);
    case 'hour':
      return Date.UTC(y, m, d, h + 1);
  }
}

const BOUNDARY_VARIABLE = { year: '{yyyy}', month: '{MM}', day: '{dd}', hour: '{HH}' } as const;

/**
 * The window folder of a template: its segments up to the last one holding the window's variable
 * (`topic={topic}/date={yyyy}-{MM}-{dd}/hour={HH}` for Hive, `{namespace}/{hub}/{partition}/{yyyy}/{MM}/{dd}/{HH}`
 * for Capture, where it is one folder per partition). Null without time variables.
 */
export function windowTemplate(template: string): string | null {
  const boundary = timeBoundary(template);
  if (boundary === 'none') return null;
  const segments = template.split('/');
  let last = -1;
  segments.forEach((segment, i) => {
    if (segment.includes(BOUNDARY_VARIABLE[boundary])) last = i;
  });
  return segments.slice(0, last + 1).join('/');
}

/**
 * Where the topic marker goes when the config names no path: `_SUCCESS` in the window folder; for a
 * template whose window folder is per partition (Capture's), the same folders without the partition
 * under `_hubcap/`, so that no partition-like folder appears beside the partitions.
 */
export function defaultMarkerTemplate(template: string): string | null {
  const folder = windowTemplate(template);
  if (folder === null) return null;
  const segments = folder.split('/');
  const shared = segments.filter((segment) => !segment.includes('{partition}'));
  return shared.length === segments.length
    ? `${folder}/${DEFAULT_MARKER_NAME}`
    : [MANIFEST_FOLDER, ...shared, DEFAULT_MARKER_NAME].join('/');
}

/** `<partition>.manifest.json`, in the window folder's `_hubcap/`. */
export const manifestName = (partition: string) => `${partition}.manifest.json`;

/** A lost-at-source record: `<partition>-<first>-<last>.lost.json`, in the window folder's `_hubcap/`. */
export const lostRecordName = (partition: string, range: SequenceRange) =>
  segmentFileName(partition, range.firstSequence, range.lastSequence, '.lost.json');

export function parseLostRecordName(name: string): (SequenceRange & { partition: string }) | null {
  const match = /^([^-]+)-(\d{20})-(\d{20})\.lost\.json$/.exec(name);
  if (!match) return null;
  return { partition: match[1]!, firstSequence: Number(match[2]), lastSequence: Number(match[3]) };
}

/** What names a topic's windows in storage: its prefix, template, names and marker path. */
export interface WindowLayout {
  prefix: string;
  template: string;
  namespace: string;
  hub: string;
  topic: string;
  /** The config's `completeness.markerPath`; the default when absent (see defaultMarkerTemplate). */
  markerPath?: string | undefined;
}

/** How a topic names its files and windows in its destination (what its agents and verify share). */
export function windowLayout(config: TopicConfig): WindowLayout {
  return {
    prefix: config.destination.kind === 'azureBlob' ? config.destination.prefix : '',
    template: config.pathTemplate,
    namespace: namespaceName(config.source.fullyQualifiedNamespace),
    hub: config.source.eventHubName,
    topic: config.topic,
    markerPath: config.completeness.markerPath,
  };
}

const joinPath = (...parts: string[]) =>
  parts
    .map((p) => p.replace(/^\/+|\/+$/g, ''))
    .filter(Boolean)
    .join('/');

function renderAt(layout: WindowLayout, template: string, partition: string, windowStart: number): string {
  const { namespace, hub, topic } = layout;
  return renderPath(template, { namespace, hub, topic, partition, time: new Date(windowStart) });
}

/** A partition's window folder (under the prefix); null for a template without windows. */
export function windowFolderPath(
  layout: WindowLayout,
  partition: string,
  windowStart: number,
): string | null {
  const template = windowTemplate(layout.template);
  return template === null
    ? null
    : joinPath(layout.prefix, renderAt(layout, template, partition, windowStart));
}

export function manifestPath(layout: WindowLayout, partition: string, windowStart: number): string | null {
  const folder = windowFolderPath(layout, partition, windowStart);
  return folder === null ? null : joinPath(folder, MANIFEST_FOLDER, manifestName(partition));
}

export function lostRecordPath(
  layout: WindowLayout,
  partition: string,
  windowStart: number,
  range: SequenceRange,
): string | null {
  const folder = windowFolderPath(layout, partition, windowStart);
  return folder === null ? null : joinPath(folder, MANIFEST_FOLDER, lostRecordName(partition, range));
}

export function markerPath(layout: WindowLayout, windowStart: number): string | null {
  const template = layout.markerPath ?? defaultMarkerTemplate(layout.template);
  return template === null ? null : joinPath(layout.prefix, renderAt(layout, template, '', windowStart));
}

/** A file as storage describes it: its name, its size and (when the store keeps one) its MD5. */
export interface StoredFile {
  path: string;
  bytes: number;
  md5: string | null;
}

export interface ManifestFacts {
  topic: string;
  partition: string;
  window: { start: number; end: number };
  /** The partition's data and dead-letter files placed in the window, with their sequence ranges. */
  files: (StoredFile & SequenceRange & { kind: ManifestFile['kind']; events: number })[];
  lostAtSource: SequenceRange[];
}

/**
 * The manifest of what storage holds: a pure function of it, so every replica and every restart
 * writes the same bytes (files and ranges sorted, fields in a fixed order).
 */
export function buildPartitionManifest(facts: ManifestFacts): PartitionManifest {
  const files = [...facts.files]
    .sort((a, b) => a.firstSequence - b.firstSequence || a.kind.localeCompare(b.kind))
    .map((f) => ({
      path: f.path,
      kind: f.kind,
      firstSequence: f.firstSequence,
      lastSequence: f.lastSequence,
      events: f.events,
      bytes: f.bytes,
      md5: f.md5,
    }));
  const lost = [...facts.lostAtSource]
    .sort((a, b) => a.firstSequence - b.firstSequence)
    .map((r) => ({ firstSequence: r.firstSequence, lastSequence: r.lastSequence }));
  const ranges = [...files, ...lost];
  return {
    version: MANIFEST_VERSION,
    topic: facts.topic,
    partition: facts.partition,
    window: {
      start: new Date(facts.window.start).toISOString(),
      end: new Date(facts.window.end).toISOString(),
    },
    sequences:
      ranges.length === 0
        ? null
        : {
            firstSequence: Math.min(...ranges.map((r) => r.firstSequence)),
            lastSequence: Math.max(...ranges.map((r) => r.lastSequence)),
          },
    events: files.reduce((n, f) => n + f.events, 0),
    bytes: files.reduce((n, f) => n + f.bytes, 0),
    files,
    lostAtSource: lost,
  };
}

/** The topic marker of a window, from its partitions' manifests (same bytes whoever writes it). */
export function buildTopicMarker(topic: string, manifests: readonly PartitionManifest[]): TopicMarker {
  const sorted = [...manifests].sort((a, b) =>
    a.partition.localeCompare(b.partition, 'en', { numeric: true }),
  );
  return {
    version: MANIFEST_VERSION,
    topic,
    window: sorted[0]?.window ?? { start: '', end: '' },
    partitions: sorted.map((m) => ({
      partition: m.partition,
      sequences: m.sequences,
      events: m.events,
      lostAtSource: m.lostAtSource.reduce((n, r) => n + r.lastSequence - r.firstSequence + 1, 0),
    })),
  };
}

/** The bytes of a manifest or marker: two-space JSON and a final newline. */
export const manifestBytes = (value: PartitionManifest | TopicMarker): Buffer =>
  Buffer.from(`${JSON.stringify(value, null, 2)}\n`);
