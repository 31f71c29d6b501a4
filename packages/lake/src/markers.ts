import { isDeepStrictEqual } from 'node:util';
import {
  buildTopicMarker,
  defaultMarkerTemplate,
  markerPath,
  type PartitionManifest,
  type StoredFile,
  TopicMarker,
  type WindowLayout,
  windowTemplate,
} from '@hubcap/shared';
import { parseJsonFile } from './json-file.ts';
import type { LakeStore } from './store.ts';
import { templateMatcher } from './template-match.ts';

/** A topic marker as verify found it: `marked` agrees with every partition's manifest. */
export interface MarkerCheck {
  /** Start of the window (ISO 8601). */
  window: string;
  path: string;
  state: 'marked' | 'unmarked' | 'bad-marker';
  message: string;
}

/** What a partition's window holds: its manifest when sealed (and readable), null while open. */
export interface WindowSeal {
  folder: string;
  partition: string;
  manifest: PartitionManifest | null;
}

/** Values of the marker path's variables that the window folders do not name (from a topic config). */
export interface MarkerNames {
  namespace?: string | undefined;
  hub?: string | undefined;
  topic?: string | undefined;
  /** The config's `completeness.markerPath` (default: defaultMarkerTemplate). */
  markerPath?: string | undefined;
}

const NAMES = ['namespace', 'hub', 'topic'] as const;
const under = (prefix: string, template: string) => (prefix ? `${prefix}/${template}` : template);

/**
 * Why the markers cannot be found with what is known (the marker path uses a name the window folders
 * do not hold and none was given), or null when they can.
 */
export function markersUncheckable(layout: { template: string } & MarkerNames): string | null {
  const folderTemplate = windowTemplate(layout.template);
  const markerTemplate = layout.markerPath ?? defaultMarkerTemplate(layout.template);
  if (folderTemplate === null || markerTemplate === null) return null;
  const unknown = NAMES.filter(
    (name) =>
      markerTemplate.includes(`{${name}}`) &&
      !folderTemplate.includes(`{${name}}`) &&
      layout[name] === undefined &&
      name !== 'topic', // manifests name their topic
  );
  return unknown.length === 0
    ? null
    : `the marker path "${markerTemplate}" uses ${unknown.map((n) => `{${n}}`).join(', ')}, which the window folders do not name: give a topic config`;
}

/**
 * The topic markers of a prefix against its manifests: a window every partition sealed needs its
 * marker; a marker needs every partition's manifest of its window, and says what they say.
 * "Every partition" is every partition with a window folder under the same names (namespace, hub,
 * topic): a partition that never landed nor sealed anything is not known here.
 */
export async function checkMarkers(
  store: LakeStore,
  listing: readonly StoredFile[],
  seals: readonly WindowSeal[],
  layout: { prefix: string; template: string } & MarkerNames,
): Promise<MarkerCheck[]> {
  const markerTemplate = layout.markerPath ?? defaultMarkerTemplate(layout.template)!;
  const { windows, partitions } = markersDue(seals, { ...layout, markerPath: markerTemplate });
  const checks: MarkerCheck[] = [];
  const markerOf = templateMatcher(under(layout.prefix, markerTemplate));
  for (const file of listing) {
    const match = markerOf(file.path);
    if (match && !windows.has(file.path))
      checks.push({
        window: match.windowStart === null ? '' : new Date(match.windowStart).toISOString(),
        path: file.path,
        state: 'bad-marker',
        message: `${file.path} marks a window no partition landed or sealed anything in`,
      });
  }
  const listed = new Set(listing.map((f) => f.path));
  for (const [path, window] of windows) {
    const sealed = new Map(window.seals.map((s) => [s.partition, s.manifest]));
    const unsealed = [...partitions.get(window.names)!].filter((p) => !sealed.get(p));
    const judged = await judge(store, path, listed.has(path), window.topic, sealed, unsealed);
    if (judged) checks.push({ window: new Date(window.start).toISOString(), path, ...judged });
  }
  return checks.sort((a, b) =>
    a.window < b.window ? -1 : a.window > b.window ? 1 : a.path < b.path ? -1 : 1,
  );
}

/**
 * Where each window's marker should be, with the partitions' seals of the window; and per set of
 * names (namespace, hub, topic), the partitions known under them.
 */
function markersDue(
  seals: readonly WindowSeal[],
  layout: { prefix: string; template: string; markerPath: string } & MarkerNames,
) {
  const topicOfManifests = seals.find((s) => s.manifest)?.manifest?.topic ?? '';
  const folderOf = templateMatcher(under(layout.prefix, windowTemplate(layout.template)!));
  const windows = new Map<string, { start: number; topic: string; names: string; seals: WindowSeal[] }>();
  const partitions = new Map<string, Set<string>>();
  for (const seal of seals) {
    const match = folderOf(seal.folder);
    if (!match || match.windowStart === null) continue;
    // What the folder says wins: a name given for Capture may differ from it in case.
    const values = {
      namespace: match.values.namespace ?? layout.namespace ?? '',
      hub: match.values.hub ?? layout.hub ?? '',
      topic: match.values.topic ?? layout.topic ?? seal.manifest?.topic ?? topicOfManifests,
    };
    const at: WindowLayout = { ...layout, ...values };
    const path = markerPath(at, match.windowStart)!;
    const names = JSON.stringify(values);
    const window = windows.get(path) ?? { start: match.windowStart, topic: values.topic, names, seals: [] };
    window.seals.push(seal);
    windows.set(path, window);
    partitions.set(names, (partitions.get(names) ?? new Set()).add(seal.partition));
  }
  return { windows, partitions };
}

/** One window's marker (present or not) against its partitions' manifests; null when none is due. */
async function judge(
  store: LakeStore,
  path: string,
  present: boolean,
  topic: string,
  sealed: Map<string, PartitionManifest | null>,
  unsealed: string[],
): Promise<Pick<MarkerCheck, 'state' | 'message'> | null> {
  if (!present)
    return unsealed.length > 0
      ? null
      : { state: 'unmarked', message: `every partition sealed the window; ${path} is missing` };
  if (unsealed.length > 0)
    return {
      state: 'bad-marker',
      message: `${path} marks a window partition(s) ${unsealed.join(', ')} have not sealed`,
    };
  const expected = buildTopicMarker(topic, [...sealed.values()] as PartitionManifest[]);
  const found = parseJsonFile((await store.read(path)) ?? Buffer.alloc(0), TopicMarker, 'a topic marker', 16);
  if (typeof found === 'string') return { state: 'bad-marker', message: `${path} ${found}` };
  if (!isDeepStrictEqual(found, expected))
    return {
      state: 'bad-marker',
      message: `${path} disagrees with the manifests: ${difference(found, expected)}`,
    };
  return { state: 'marked', message: `${path} agrees with ${sealed.size} partition manifest(s)` };
}

/** The first thing a marker says differently from the manifests, in a few words. */
function difference(found: TopicMarker, expected: TopicMarker): string {
  if (found.topic !== expected.topic) return `topic "${found.topic}", the manifests "${expected.topic}"`;
  if (!isDeepStrictEqual(found.window, expected.window))
    return `window ${found.window.start}, the manifests ${expected.window.start}`;
  const ids = (m: TopicMarker) => m.partitions.map((p) => p.partition).join(', ');
  if (ids(found) !== ids(expected)) return `partitions ${ids(found)}, the manifests ${ids(expected)}`;
  const i = found.partitions.findIndex((p, n) => !isDeepStrictEqual(p, expected.partitions[n]));
  return `partition ${found.partitions[i]!.partition}: ${JSON.stringify(found.partitions[i])}, its manifest ${JSON.stringify(expected.partitions[i])}`;
}
