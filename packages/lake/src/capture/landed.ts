import type { ContainerClient } from '@azure/storage-blob';
import { type LandedPosition, parseSegmentFileName } from '@hubcap/shared';
import { listBlobs, STORAGE_IDLE_MS } from './scan.ts';

/** Hubcap's first and last landed file on a partition, by their names. */
export interface LandedRange {
  first: LandedPosition;
  last: LandedPosition;
}

const byName = (file: string, sequenceNumber: number): LandedPosition => ({
  sequenceNumber,
  offset: null,
  enqueuedTime: null,
  file,
});

/**
 * What Hubcap landed under `prefix`, per partition, read from file names alone: every data file is
 * named `[ss-]<partition>-<first>-<last>.<ext>` by its first and last sequence number. Dead letters
 * (`_deadletter/`) and files of other names are not data.
 */
export async function landedRanges(
  container: ContainerClient,
  prefix: string,
  idleMs = STORAGE_IDLE_MS,
): Promise<Map<string, LandedRange>> {
  const ranges = new Map<string, LandedRange>();
  const root = prefix.replace(/\/+$/, '');
  for await (const blob of listBlobs(container, root ? `${root}/` : '', idleMs)) {
    const relative = root ? blob.name.slice(root.length + 1) : blob.name;
    if (relative.startsWith('_deadletter/')) continue;
    const parsed = parseSegmentFileName(blob.name.slice(blob.name.lastIndexOf('/') + 1));
    if (!parsed || parsed.lastSequence < parsed.firstSequence) continue;
    const range = ranges.get(parsed.partition);
    if (!range) {
      ranges.set(parsed.partition, {
        first: byName(blob.name, parsed.firstSequence),
        last: byName(blob.name, parsed.lastSequence),
      });
      continue;
    }
    if (parsed.firstSequence < range.first.sequenceNumber)
      range.first = byName(blob.name, parsed.firstSequence);
    if (parsed.lastSequence > range.last.sequenceNumber) range.last = byName(blob.name, parsed.lastSequence);
  }
  return ranges;
}
