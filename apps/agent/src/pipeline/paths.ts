import { type PathContext, parseSegmentFileName, renderPath, segmentFileName } from '@hubcap/shared';
import { DEAD_LETTER_EXTENSION, DEAD_LETTER_FOLDER } from './dead-letter.ts';

export interface PathLayout {
  prefix: string;
  template: string;
  namespace: string;
  hub: string;
  topic: string;
  extension: string;
}

/** Folder of a segment: `prefix/renderPath(template, first event's enqueued time)`. */
export function segmentFolder(layout: PathLayout, partition: string, firstEnqueuedTime: Date): string {
  const ctx: PathContext = {
    namespace: layout.namespace,
    hub: layout.hub,
    topic: layout.topic,
    partition,
    time: firstEnqueuedTime,
  };
  const rendered = renderPath(layout.template, ctx);
  const prefix = layout.prefix.replace(/\/+$/, '');
  return prefix ? `${prefix}/${rendered}` : rendered;
}

export function segmentPath(
  layout: PathLayout,
  partition: string,
  firstEnqueuedTime: Date,
  firstSequence: number,
  lastSequence: number,
): string {
  return `${segmentFolder(layout, partition, firstEnqueuedTime)}/${segmentFileName(partition, firstSequence, lastSequence, layout.extension)}`;
}

/**
 * Listing prefix that finds every file of `partition` starting at `firstSequence` in its folder:
 * `folder/${partition}-${pad20(firstSequence)}-`.
 */
export function replayProbePrefix(
  layout: PathLayout,
  partition: string,
  firstEnqueuedTime: Date,
  firstSequence: number,
): string {
  const name = segmentFileName(partition, firstSequence, 0, layout.extension);
  const stem = name.slice(0, name.length - layout.extension.length - 20);
  return `${segmentFolder(layout, partition, firstEnqueuedTime)}/${stem}`;
}

/**
 * The replay boundary. A file of this partition that starts at `firstSequence` and has this format's
 * extension was committed by an earlier run that crashed (or lost the partition) before checkpointing.
 * The segment reopened at `firstSequence` must end at that file's last sequence number so it
 * overwrites the same name with the same content. Null when no such file exists.
 */
export function forcedLastSequence(
  names: readonly string[],
  partition: string,
  firstSequence: number,
  extension: string,
): { lastSequence: number; conflicting: string[] } | null {
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

/** Folder of a segment's dead letters: `prefix/_deadletter/<rendered template>` (hidden from Spark readers). */
export function deadLetterFolder(layout: PathLayout, partition: string, firstEnqueuedTime: Date): string {
  const prefix = layout.prefix.replace(/\/+$/, '');
  const rendered = segmentFolder({ ...layout, prefix: '' }, partition, firstEnqueuedTime);
  return prefix ? `${prefix}/${DEAD_LETTER_FOLDER}/${rendered}` : `${DEAD_LETTER_FOLDER}/${rendered}`;
}

export function deadLetterPath(
  layout: PathLayout,
  partition: string,
  firstEnqueuedTime: Date,
  firstSequence: number,
  lastSequence: number,
): string {
  return `${deadLetterFolder(layout, partition, firstEnqueuedTime)}/${segmentFileName(partition, firstSequence, lastSequence, DEAD_LETTER_EXTENSION)}`;
}

/** The replay probe for a segment's dead-letter file (see replayProbePrefix). */
export function deadLetterProbePrefix(
  layout: PathLayout,
  partition: string,
  firstEnqueuedTime: Date,
  firstSequence: number,
): string {
  const name = segmentFileName(partition, firstSequence, 0, DEAD_LETTER_EXTENSION);
  const stem = name.slice(0, name.length - DEAD_LETTER_EXTENSION.length - 20);
  return `${deadLetterFolder(layout, partition, firstEnqueuedTime)}/${stem}`;
}
