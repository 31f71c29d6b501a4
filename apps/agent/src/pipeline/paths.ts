import {
  type PathContext,
  parseSegmentFileName,
  renderPath,
  segmentFileName,
  splitTemplate,
} from '@hubcap/shared';
import { DEAD_LETTER_EXTENSION, DEAD_LETTER_FOLDER } from './dead-letter.ts';

export interface PathLayout {
  prefix: string;
  template: string;
  namespace: string;
  hub: string;
  topic: string;
  extension: string;
  /**
   * False for the layout written before a last `{ss}` moved into the file name (it was a folder):
   * replay probes look there too during an upgrade (see previousLayout).
   */
  secondInName?: boolean;
}

function parts(layout: PathLayout): { folder: string; fileStart: string | null } {
  return layout.secondInName === false
    ? { folder: layout.template, fileStart: null }
    : splitTemplate(layout.template);
}

/** The layout earlier versions wrote for this template, when it differs (a last `{ss}` was a folder). */
export function previousLayout(layout: PathLayout): PathLayout | null {
  return layout.secondInName !== false && splitTemplate(layout.template).fileStart
    ? { ...layout, secondInName: false }
    : null;
}

function context(layout: PathLayout, partition: string, time: Date): PathContext {
  return { namespace: layout.namespace, hub: layout.hub, topic: layout.topic, partition, time };
}

function join(prefix: string, path: string): string {
  const trimmed = prefix.replace(/\/+$/, '');
  return trimmed && path ? `${trimmed}/${path}` : trimmed || path;
}

/** Folder of a segment: `prefix/<template rendered at the first event's enqueued time>` (see splitTemplate). */
function segmentFolder(layout: PathLayout, partition: string, firstEnqueuedTime: Date): string {
  const { folder } = parts(layout);
  return join(layout.prefix, renderPath(folder, context(layout, partition, firstEnqueuedTime)));
}

/** What a file name starts with: Capture's second for a template ending in `{ss}`, else nothing. */
function fileStart(layout: PathLayout, partition: string, firstEnqueuedTime: Date): string {
  const { fileStart } = parts(layout);
  return fileStart ? renderPath(fileStart, context(layout, partition, firstEnqueuedTime)) : '';
}

/** Where a segment sits in the partition's stream: what its file's path is made of besides the layout. */
type SegmentPosition = [
  partition: string,
  firstEnqueuedTime: Date,
  firstSequence: number,
  lastSequence: number,
];

export function segmentPath(layout: PathLayout, ...segment: SegmentPosition): string {
  const [partition, firstEnqueuedTime, firstSequence, lastSequence] = segment;
  const start = fileStart(layout, partition, firstEnqueuedTime);
  const name = segmentFileName(partition, firstSequence, lastSequence, layout.extension, start);
  return join(segmentFolder(layout, partition, firstEnqueuedTime), name);
}

/** The name of a file up to its last sequence number: `[start-]<partition>-<pad20(first)>-`. */
function nameStem(start: string, partition: string, firstSequence: number): string {
  const name = segmentFileName(partition, firstSequence, 0, '', start);
  return name.slice(0, name.length - 20);
}

/**
 * Listing prefix that finds every file of `partition` starting at `firstSequence` in its folder:
 * `folder/[start-]${partition}-${pad20(firstSequence)}-`.
 */
export function replayProbePrefix(
  layout: PathLayout,
  partition: string,
  firstEnqueuedTime: Date,
  firstSequence: number,
): string {
  const stem = nameStem(fileStart(layout, partition, firstEnqueuedTime), partition, firstSequence);
  return join(segmentFolder(layout, partition, firstEnqueuedTime), stem);
}

/**
 * The replay boundary. A file of this partition that starts at `firstSequence` and has this format's
 * extension was committed by an earlier run that crashed (or lost the partition) before checkpointing.
 * The segment reopened at `firstSequence` must end at that file's last sequence number so it
 * overwrites the same name with the same content. Null when no such file exists.
 */
export interface ReplayHit {
  lastSequence: number;
  conflicting: string[];
}

export function forcedLastSequence(
  names: readonly string[],
  partition: string,
  firstSequence: number,
  extension: string,
): ReplayHit | null {
  const matches: { name: string; lastSequence: number }[] = [];
  for (const path of names) {
    const name = path.slice(path.lastIndexOf('/') + 1);
    const parsed = parseSegmentFileName(name);
    if (!parsed || parsed.partition !== partition || parsed.firstSequence !== firstSequence) continue;
    if (parsed.extension !== extension || parsed.lastSequence < firstSequence) continue;
    matches.push({ name: path, lastSequence: parsed.lastSequence });
  }
  if (matches.length === 0) return null;
  matches.sort((a, b) => b.lastSequence - a.lastSequence);
  return { lastSequence: matches[0]!.lastSequence, conflicting: matches.slice(1).map((m) => m.name) };
}

/** The layout of a topic's dead letters: `prefix/_deadletter/<same folders>/<same names>.ndjson`. */
function deadLetterLayout(layout: PathLayout): PathLayout {
  return { ...layout, prefix: join(layout.prefix, DEAD_LETTER_FOLDER), extension: DEAD_LETTER_EXTENSION };
}

export function deadLetterPath(layout: PathLayout, ...segment: SegmentPosition): string {
  return segmentPath(deadLetterLayout(layout), ...segment);
}

/** The replay probe for a segment's dead-letter file (see replayProbePrefix). */
export function deadLetterProbePrefix(
  layout: PathLayout,
  partition: string,
  firstEnqueuedTime: Date,
  firstSequence: number,
): string {
  return replayProbePrefix(deadLetterLayout(layout), partition, firstEnqueuedTime, firstSequence);
}

/** Listing prefix of every file whose first event falls in the same folder as `time`. */
export function folderPrefix(layout: PathLayout, partition: string, time: Date): string {
  const folder = segmentFolder(layout, partition, time);
  return folder ? `${folder}/` : '';
}

/**
 * The sequence range of the file of `partition` (this format's extension) that holds `sequence`,
 * among `names`; null when none does. Replays start and end on these boundaries, so that a replay
 * into the topic's own layout rewrites whole files, identical to the ones already there.
 */
export function rangeHolding(
  names: readonly string[],
  partition: string,
  sequence: number,
  extension: string,
): { firstSequence: number; lastSequence: number } | null {
  for (const path of names) {
    const parsed = parseSegmentFileName(path.slice(path.lastIndexOf('/') + 1));
    if (!parsed || parsed.partition !== partition || parsed.extension !== extension) continue;
    if (parsed.firstSequence <= sequence && sequence <= parsed.lastSequence)
      return { firstSequence: parsed.firstSequence, lastSequence: parsed.lastSequence };
  }
  return null;
}
