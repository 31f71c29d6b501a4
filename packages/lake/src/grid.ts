import {
  manifestPath,
  markerPath,
  type PartitionManifest,
  PartitionManifest as PartitionManifestSchema,
  parseSegmentFileName,
  type WindowLayout,
  windowFolderPath,
  windowOf,
} from '@hubcap/shared';
import type { LakeStore } from './store.ts';

/** `open`: files landed, no manifest yet; `empty`: nothing landed and no manifest (before the first event, or not yet). */
export type GridState = 'complete' | 'open' | 'empty' | 'gap' | 'lost-at-source';

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

/** A partition's manifest of a window: null when there is none, `unreadable` when it is not one. */
async function readManifest(
  store: LakeStore,
  path: string,
): Promise<{ manifest: PartitionManifest } | 'unreadable' | null> {
  const file = await store.get(path);
  if (!file) return null;
  if (file.bytes.byteLength > MAX_MANIFEST_BYTES) return 'unreadable';
  try {
    const parsed = PartitionManifestSchema.safeParse(JSON.parse(file.bytes.toString('utf8')));
    return parsed.success ? { manifest: parsed.data } : 'unreadable';
  } catch {
    return 'unreadable';
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
 * Events a partition landed so far in a window without a manifest, from its data files' names (they
 * carry the sequence range); null when it has none. Listings are shared by partitions of one folder.
 */
async function landedEvents(
  store: LakeStore,
  listings: Map<string, Promise<{ path: string }[]>>,
  folder: string,
  partition: string,
): Promise<number | null> {
  if (!listings.has(folder)) listings.set(folder, store.list(`${folder}/`));
  let events: number | null = null;
  for (const { path } of await listings.get(folder)!) {
    // Manifests, markers and dead letters live in `_` folders: not data.
    if (path.slice(folder.length).includes('/_')) continue;
    const file = parseSegmentFileName(path.slice(path.lastIndexOf('/') + 1));
    if (file?.partition === partition) events = (events ?? 0) + file.lastSequence - file.firstSequence + 1;
  }
  return events;
}

/**
 * The completeness grid of the windows that overlap [from, to), newest first (the current one
 * included), read from storage: each partition's manifest says whether its window is sealed (and what
 * it holds); without one a window is open when files landed in it, else empty; a sealed window that
 * does not continue the previous one's sequence numbers has a gap. The topic marker's write time gives
 * the window's completion time.
 */
export async function readGrid(
  store: LakeStore,
  layout: WindowLayout,
  partitions: readonly string[],
  range: { from: Date; to: Date },
): Promise<GridWindow[]> {
  const windows: { start: number; end: number }[] = [];
  for (let w = windowOf(layout.template, range.from); w && w.start < range.to.getTime(); ) {
    windows.push(w);
    w = windowOf(layout.template, new Date(w.end));
  }
  const listings = new Map<string, Promise<{ path: string }[]>>();
  const rows = await inBatches(windows, async (w) => {
    const marker = await store.get(markerPath(layout, w.start)!);
    const manifests = await Promise.all(
      partitions.map((p) => readManifest(store, manifestPath(layout, p, w.start)!)),
    );
    const landed = await Promise.all(
      partitions.map((p, i) =>
        manifests[i] && manifests[i] !== 'unreadable'
          ? null
          : landedEvents(store, listings, windowFolderPath(layout, p, w.start)!, p),
      ),
    );
    return { w, marker, manifests, landed };
  });
  const last = new Map<string, number>();
  const grid: GridWindow[] = [];
  for (const { w, marker, manifests, landed } of rows) {
    const cells = partitions.map((partition, i): GridCell => {
      const read = manifests[i];
      if (!read || read === 'unreadable') {
        const events = landed[i] ?? null;
        const state = events === null && !read ? 'empty' : 'open';
        return { partition, state, events: events ?? 0, lost: 0 };
      }
      const { manifest } = read;
      const lost = manifest.lostAtSource.reduce((n, r) => n + r.lastSequence - r.firstSequence + 1, 0);
      const previous = last.get(partition);
      let state: GridState = lost > 0 ? 'lost-at-source' : 'complete';
      if (manifest.sequences) {
        if (previous !== undefined && manifest.sequences.firstSequence !== previous + 1) state = 'gap';
        last.set(partition, manifest.sequences.lastSequence);
      }
      return { partition, state, events: manifest.events, lost };
    });
    const complete = marker !== null && cells.every((c) => c.state !== 'open' && c.state !== 'empty');
    grid.push({
      start: new Date(w.start).toISOString(),
      end: new Date(w.end).toISOString(),
      completedAt: complete ? marker.modifiedAt.toISOString() : null,
      freshnessSeconds: complete ? Math.max(0, (marker.modifiedAt.getTime() - w.end) / 1000) : null,
      cells,
    });
  }
  // Windows before the first data of any partition say nothing: the grid starts where data does.
  const first = grid.findIndex((row) => row.cells.some((c) => c.state !== 'empty'));
  return (first < 0 ? [] : grid.slice(first)).reverse();
}
