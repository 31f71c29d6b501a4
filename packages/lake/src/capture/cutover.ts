import type { ContainerClient } from '@azure/storage-blob';
import {
  type ContinuityReport,
  type CutoverDirection,
  type CutoverPlan,
  continuity,
  type LandedPosition,
} from '@hubcap/shared';
import { landedRanges } from './landed.ts';
import { type FileProblem, firstCapturedFrom, lastCaptured, listCaptureFiles } from './scan.ts';

/** Where Capture writes for one hub. */
export interface CaptureSource {
  container: ContainerClient;
  pathFormat: string;
  /** The namespace's name (first label of its host) and the hub, as Capture fills its tokens. */
  namespace: string;
  hub: string;
  /** How long storage may stay silent before a read gives up (default STORAGE_IDLE_MS). */
  idleMs?: number;
}

/** Where Hubcap lands the topic's files. */
export interface HubcapLanding {
  container: ContainerClient;
  prefix: string;
  idleMs?: number;
}

const byId = (a: string, b: string) => a.localeCompare(b, 'en', { numeric: true });

/** The hub's partitions when known, else every partition anyone landed files for. */
function partitionsOf(known: readonly string[] | undefined, ...found: Iterable<string>[]): string[] {
  if (known && known.length > 0) return [...known].sort(byId);
  return [...new Set(found.flatMap((f) => [...f]))].sort(byId);
}

/**
 * The cutover plan: per partition Capture's last event and Hubcap's first sequence number (its + 1).
 * A partition without a readable Capture file gets a problem instead: nothing proves where to start,
 * unless the hub holds nothing there either (`emptyPartitions`): then there is nothing to hand over,
 * and Hubcap lands it from its first event.
 */
export async function capturePlan(
  source: CaptureSource,
  partitionIds?: readonly string[],
  emptyPartitions: ReadonlySet<string> = new Set(),
): Promise<Pick<CutoverPlan, 'partitions' | 'fileProblems'>> {
  const files = await listCaptureFiles(
    source.container,
    source.pathFormat,
    source.namespace,
    source.hub,
    source.idleMs,
  );
  const fileProblems: FileProblem[] = [];
  const partitions = [];
  for (const partitionId of partitionsOf(partitionIds, files.keys())) {
    const own = files.get(partitionId) ?? [];
    const { last, problems } = await lastCaptured(source.container, own, source.idleMs);
    fileProblems.push(...problems);
    const problem =
      problems.length > 0
        ? `${problems.length} newer file(s) cannot be read (listed below): repair or remove them first`
        : last !== null || emptyPartitions.has(partitionId)
          ? null
          : own.length === 0
            ? 'Capture has no file for this partition in this container and path format'
            : 'every Capture file of this partition is empty';
    partitions.push({
      partitionId,
      captureLast: last,
      hubcapFirst: last ? last.sequenceNumber + 1 : null,
      problem,
    });
  }
  return { partitions, fileProblems };
}

/**
 * Proves the handover per partition. toHubcap: Capture's last event (scanned again now) against
 * Hubcap's first landed file. toCapture (rollback): Hubcap's last landed file against the first event
 * of Capture's oldest file that starts after Hubcap's first, i.e. written since Capture was enabled again.
 */
export async function continuityReport(
  source: CaptureSource,
  landing: HubcapLanding,
  direction: CutoverDirection,
  partitionIds?: readonly string[],
): Promise<Pick<ContinuityReport, 'direction' | 'partitions' | 'fileProblems'>> {
  const [files, landed] = await Promise.all([
    listCaptureFiles(source.container, source.pathFormat, source.namespace, source.hub, source.idleMs),
    landedRanges(landing.container, landing.prefix, landing.idleMs),
  ]);
  const fileProblems: FileProblem[] = [];
  const partitions = [];
  for (const partitionId of partitionsOf(partitionIds, files.keys(), landed.keys())) {
    const own = files.get(partitionId) ?? [];
    const hubcap = landed.get(partitionId) ?? null;
    let before: LandedPosition | null;
    let after: LandedPosition | null;
    if (direction === 'toHubcap') {
      const scanned = await lastCaptured(source.container, own, source.idleMs);
      fileProblems.push(...scanned.problems);
      before = scanned.last;
      after = hubcap?.first ?? null;
    } else {
      before = hubcap?.last ?? null;
      const scanned = hubcap
        ? await firstCapturedFrom(source.container, own, hubcap.first.sequenceNumber, source.idleMs)
        : { first: null, problems: [] };
      fileProblems.push(...scanned.problems);
      after = scanned.first;
    }
    partitions.push({
      partitionId,
      before,
      after,
      continuity: continuity(before?.sequenceNumber ?? null, after?.sequenceNumber ?? null),
    });
  }
  return { direction, partitions, fileProblems };
}
