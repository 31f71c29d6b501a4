import {
  manifestPath,
  markerPath,
  type PartitionManifest,
  PartitionManifest as PartitionManifestSchema,
  type WindowLayout,
  windowOf,
} from '@hubcap/shared';
import type { LakeStore } from './store.ts';

export type GridState = 'complete' | 'open' | 'gap' | 'lost-at-source';

export interface GridCell {
  partition: string;
  state: GridState;
  events: number;
  /** Sequence numbers lost at source in this window. */
  lost: number;
}

export interface GridWindow {
  start: string;
  end: string;
  /** When the topic marker was written: every partition sealed the window. */
  completedAt: string | null;
  /** Seconds from the window's end to its marker ("data freshness"); null while not complete. */
  freshnessSeconds: number | null;
  cells: GridCell[];
}

/** Manifests and markers are small; a bigger file is not one. */
const MAX_MANIFEST_BYTES = 16 * 1024 * 1024;
const READS_AT_ONCE = 16;

async function readManifest(
  store: LakeStore,
  path: string,
): Promise<{ manifest: PartitionManifest; at: Date } | null> {
  const file = await store.get(path);
  if (!file || file.bytes.byteLength > MAX_MANIFEST_BYTES) return null;
  try {
    const parsed = PartitionManifestSchema.safeParse(JSON.parse(file.bytes.toString('utf8')));
    return parsed.success ? { manifest: parsed.data, at: file.modifiedAt } : null;
  } catch {
    return null;
  }
}

/** Runs `work` over `items`, a few at a time. */
async function inBatches<T, R>(items: readonly T[], work: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = [];
  for (let i = 0; i < items.length; i += READS_AT_ONCE) {
    out.push(...(await Promise.all(items.slice(i, i + READS_AT_ONCE).map(work))));
  }
  return out;
}

/**
 * The completeness grid of the windows that ended in [from, to), newest first, read from storage:
 * each partition's manifest says whether its window is sealed (and what it holds); a window whose
 * manifest is missing is open; a sealed window that does not continue the previous one's sequence
 * numbers has a gap. The topic marker's write time gives the window's completion time.
 */
export async function readGrid(
  store: LakeStore,
  layout: WindowLayout,
  partitions: readonly string[],
  range: { from: Date; to: Date },
): Promise<GridWindow[]> {
  const windows: { start: number; end: number }[] = [];
  for (let w = windowOf(layout.template, range.from); w && w.end <= range.to.getTime(); ) {
    windows.push(w);
    w = windowOf(layout.template, new Date(w.end));
  }
  const rows = await inBatches(windows, async (w) => {
    const marker = await store.get(markerPath(layout, w.start)!);
    const manifests = await Promise.all(
      partitions.map((p) => readManifest(store, manifestPath(layout, p, w.start)!)),
    );
    return { w, marker, manifests };
  });
  const last = new Map<string, number>();
  const grid: GridWindow[] = [];
  for (const { w, marker, manifests } of rows) {
    const cells = partitions.map((partition, i): GridCell => {
      const manifest = manifests[i]?.manifest;
      if (!manifest) return { partition, state: 'open', events: 0, lost: 0 };
      const lost = manifest.lostAtSource.reduce((n, r) => n + r.lastSequence - r.firstSequence + 1, 0);
      const previous = last.get(partition);
      let state: GridState = lost > 0 ? 'lost-at-source' : 'complete';
      if (manifest.sequences) {
        if (previous !== undefined && manifest.sequences.firstSequence !== previous + 1) state = 'gap';
        last.set(partition, manifest.sequences.lastSequence);
      }
      return { partition, state, events: manifest.events, lost };
    });
    const complete = marker !== null && cells.every((c) => c.state !== 'open');
    grid.push({
      start: new Date(w.start).toISOString(),
      end: new Date(w.end).toISOString(),
      completedAt: complete ? marker.modifiedAt.toISOString() : null,
      freshnessSeconds: complete ? Math.max(0, (marker.modifiedAt.getTime() - w.end) / 1000) : null,
      cells,
    });
  }
  return grid.reverse();
}
