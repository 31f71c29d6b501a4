import { windowOf } from '@hubcap/shared';
import { gaps, overlaps, range, show, span, type Unit } from '../ranges.ts';
import type { LakeStore } from '../store.ts';
import type { Cell, Problem } from '../verify.ts';
import { captureLayout } from './path-format.ts';
import { CaptureFileError, type CaptureFileSummary, readCaptureFile } from './read-file.ts';
import { type CaptureFileRef, groupCaptureFiles } from './scan.ts';

/** Where Capture's files of one hub are, for verify. */
export interface CaptureFiles {
  /** The store holding them (the lake's own when Capture wrote to the same container). */
  store: LakeStore;
  pathFormat: string;
  /** The namespace's name (first label of its host) and the hub, as Capture fills its tokens. */
  namespace: string;
  hub: string;
}

const READS_AT_ONCE = 8;

async function summarise(store: LakeStore, file: CaptureFileRef): Promise<CaptureFileSummary | Problem> {
  try {
    const stream = await store.stream(file.name);
    if (!stream) return { kind: 'missing-file', path: file.name, message: `${file.name} disappeared` };
    return await readCaptureFile(stream, file.name);
  } catch (error) {
    if (!(error instanceof CaptureFileError)) throw error;
    return { kind: 'unreadable-file', path: file.name, message: error.message };
  }
}

/**
 * Capture's files of a hub as verify's cells: per partition and window (the Hubcap template's, so both
 * sources line up), the sequence range their records cover, read with the cutover's reader. Inside a
 * cell, files that overlap or leave a hole are named; a file whose record count is not its range's
 * span holds a gap or a duplicate inside it; a file that cannot be read is named and leaves a gap.
 */
export async function captureCells(capture: CaptureFiles, template: string): Promise<Cell[]> {
  const layout = captureLayout(capture.pathFormat, capture.namespace, capture.hub);
  const listing = await capture.store.list(layout.listPrefix);
  const cells: Cell[] = [];
  for (const [partition, files] of groupCaptureFiles(
    listing.map((f) => f.path),
    layout,
  )) {
    const summaries: (CaptureFileSummary | Problem)[] = [];
    for (let i = 0; i < files.length; i += READS_AT_ONCE)
      summaries.push(
        ...(await Promise.all(files.slice(i, i + READS_AT_ONCE).map((f) => summarise(capture.store, f)))),
      );
    const byWindow = new Map<number, { file: CaptureFileRef; summary: CaptureFileSummary | Problem }[]>();
    files.forEach((file, i) => {
      const start = windowOf(template, new Date(file.time))?.start ?? 0;
      byWindow.set(start, [...(byWindow.get(start) ?? []), { file, summary: summaries[i]! }]);
    });
    for (const [start, read] of byWindow) cells.push(captureCell(partition, start, read));
  }
  return cells;
}

function captureCell(
  partition: string,
  start: number,
  read: { file: CaptureFileRef; summary: CaptureFileSummary | Problem }[],
): Cell {
  const problems: Problem[] = [];
  const units: Unit[] = [];
  let events = 0;
  for (const { file, summary } of read) {
    if ('kind' in summary) {
      problems.push(summary);
      continue;
    }
    events += summary.records;
    if (!summary.first || !summary.last) continue; // Capture's file of a window without events
    const covers = range(summary.first.sequenceNumber, summary.last.sequenceNumber);
    units.push({ ...covers, path: file.name });
    if (summary.records !== span(covers))
      problems.push({
        kind: summary.records < span(covers) ? 'gap' : 'overlap',
        path: file.name,
        ranges: [covers],
        message: `${file.name} holds ${summary.records} records for sequence numbers ${show([covers])}`,
      });
  }
  // Not merged like Hubcap's units: two Capture files with the same range are an overlap.
  units.sort((a, b) => a.firstSequence - b.firstSequence || a.lastSequence - b.lastSequence);
  problems.push(...overlaps(units));
  const holes = gaps(units);
  if (holes.length > 0)
    problems.push({ kind: 'gap', ranges: holes, message: `sequence numbers missing: ${show(holes)}` });
  return {
    source: 'capture',
    window: `Capture ${new Date(start).toISOString()}`,
    partition,
    status: 'complete',
    sequences: units.length
      ? range(units[0]!.firstSequence, Math.max(...units.map((u) => u.lastSequence)))
      : null,
    events,
    files: read.length,
    lostAtSource: [],
    problems,
  };
}
