import { createHash } from 'node:crypto';
import {
  MANIFEST_FOLDER,
  type PartitionManifest,
  PartitionManifest as PartitionManifestSchema,
  parseSegmentFileName,
  type SequenceRange,
  type StoredFile,
  unsafePathProblem,
  windowTemplate,
} from '@hubcap/shared';
import { type CaptureFiles, captureCells } from './capture/audit.ts';
import { parseJsonFile } from './json-file.ts';
import {
  checkMarkers,
  type MarkerCheck,
  type MarkerNames,
  markersUncheckable,
  type WindowSeal,
} from './markers.ts';
import { gaps, merge, overlaps, range, show, type Unit } from './ranges.ts';
import type { LakeStore } from './store.ts';
import { templateMatcher } from './template-match.ts';

const DEAD_LETTER_FOLDER = '_deadletter';

export type CellStatus = 'complete' | 'open' | 'lost-at-source' | 'problem';

export interface Problem {
  kind:
    | 'gap'
    | 'overlap'
    | 'unlisted-file'
    | 'missing-file'
    | 'checksum-mismatch'
    | 'size-mismatch'
    | 'bad-manifest'
    | 'unreadable-file';
  message: string;
  ranges?: SequenceRange[];
  path?: string;
}

/** One window of one partition: Hubcap's files, or Event Hubs Capture's (read for a cutover's audit). */
export interface Cell {
  source: 'hubcap' | 'capture';
  window: string;
  partition: string;
  status: CellStatus;
  sequences: SequenceRange | null;
  events: number;
  files: number;
  lostAtSource: SequenceRange[];
  problems: Problem[];
}

export interface VerifyReport {
  location: string;
  prefix: string;
  cells: Cell[];
  /** The topic markers found or due, checked against the manifests. */
  markers: MarkerCheck[];
  /** Why the markers were not checked (a name the marker path needs is unknown), or null. */
  markersUnchecked: string | null;
  problems: number;
  ok: boolean;
}

export interface VerifyOptions {
  /** The topic's path prefix in the store ('' for none). */
  prefix: string;
  /** The topic's path template (its coarsest time variable makes the windows). */
  template: string;
  /** Recompute each listed file's MD5 from its bytes rather than trusting the stored Content-MD5. */
  deep?: boolean;
  /** Ranges lost at source are reported without failing. */
  allowLost?: boolean;
  /** The names the marker path uses that the window folders do not, and a configured marker path. */
  markers?: MarkerNames;
  /** Event Hubs Capture's files of the same hub: audited first, then Hubcap's continue them. */
  capture?: CaptureFiles;
}

/**
 * Audits a topic's prefix from storage alone: lists it, reads the manifests, and reports per window
 * and partition whether the window is complete, still open (only a partition's newest window may be),
 * or has gaps, overlaps, files no manifest lists, listed files missing, or checksums that differ.
 */
export async function verify(store: LakeStore, options: VerifyOptions): Promise<VerifyReport> {
  const folderTemplate = windowTemplate(options.template);
  if (folderTemplate === null)
    throw new Error(
      `the template "${options.template}" has no time variable, so it has no windows to verify`,
    );
  const depth = folderTemplate.split('/').length;
  const prefix = options.prefix.replace(/^\/+|\/+$/g, '');
  if (prefix && unsafePathProblem(prefix)) throw new Error(`prefix "${prefix}" ${unsafePathProblem(prefix)}`);
  const root = prefix ? `${prefix}/` : '';
  const listing = await store.list(root);
  // A mistyped prefix must not pass as "nothing wrong".
  if (listing.length === 0)
    throw new Error(`nothing under ${prefix ? `prefix "${prefix}"` : 'the root'} of ${store.location}`);
  const byPath = new Map(listing.map((f) => [f.path, f]));
  // Folders the template does not render are not this topic's windows: e.g. a replay's prefix inside
  // the topic's (a topic without a prefix holds every folder of its container).
  const isWindow = templateMatcher(folderTemplate);

  // Files by (window folder, partition), from the names alone.
  const stored = new Map<string, { window: string; partition: string; files: (StoredFile & Unit)[] }>();
  const manifests = new Map<string, StoredFile>();
  for (const file of listing) {
    const relative = file.path.slice(root.length).split('/');
    const deadLetter = relative[0] === DEAD_LETTER_FOLDER;
    const segments = deadLetter ? relative.slice(1) : relative;
    if (segments.length <= depth || !isWindow(segments.slice(0, depth).join('/'))) continue;
    if (segments[depth] === MANIFEST_FOLDER) {
      if (segments[depth + 1]?.endsWith('.manifest.json')) manifests.set(file.path, file);
      continue;
    }
    const parsed = parseSegmentFileName(segments[segments.length - 1] ?? '');
    if (!parsed || segments.includes(MANIFEST_FOLDER)) continue;
    const window = root + segments.slice(0, depth).join('/');
    const key = `${window}\0${parsed.partition}`;
    const cell = stored.get(key) ?? { window, partition: parsed.partition, files: [] };
    cell.files.push({ ...file, ...range(parsed.firstSequence, parsed.lastSequence), deadLetter });
    stored.set(key, cell);
  }

  const cells = new Map<string, Cell>();
  const seals: WindowSeal[] = [];
  for (const [path, file] of manifests) {
    const window = path.slice(0, path.indexOf(`/${MANIFEST_FOLDER}/`));
    const partition = path.slice(path.lastIndexOf('/') + 1, -'.manifest.json'.length);
    const cell = await checkManifest(store, file, window, partition, byPath, options);
    const files = stored.get(`${window}\0${partition}`)?.files ?? [];
    const listed = new Set(cell.listed);
    for (const f of files) {
      if (!listed.has(f.path))
        cell.cell.problems.push({
          kind: 'unlisted-file',
          path: f.path,
          message: `${f.path} is not in the manifest`,
        });
    }
    cells.set(`${window}\0${partition}`, cell.cell);
    seals.push({ folder: window, partition, manifest: cell.manifest });
  }
  for (const [key, { window, partition, files }] of stored) {
    if (cells.has(key)) continue;
    const units = merge(files);
    seals.push({ folder: window, partition, manifest: null });
    cells.set(key, {
      source: 'hubcap',
      window,
      partition,
      status: 'open',
      sequences: units.length ? range(units[0]!.firstSequence, units[units.length - 1]!.lastSequence) : null,
      // Landed so far: the sequence numbers its files cover (data and dead letters).
      events: units.reduce((n, u) => n + u.lastSequence - u.firstSequence + 1, 0),
      files: files.length,
      lostAtSource: [],
      problems: overlaps(units),
    });
  }

  const capture = options.capture ? await captureCells(options.capture, options.template) : [];
  // Per partition, Capture's windows come first: Hubcap continues where Capture stopped.
  const sorted = [...capture, ...cells.values()].sort(
    (a, b) =>
      a.partition.localeCompare(b.partition, 'en', { numeric: true }) ||
      (a.source === b.source ? 0 : a.source === 'capture' ? -1 : 1) ||
      (a.window < b.window ? -1 : 1),
  );
  checkAcrossWindows(sorted);
  for (const cell of sorted) {
    if (cell.problems.length > 0) cell.status = 'problem';
    else if (cell.status !== 'open' && cell.lostAtSource.length > 0) cell.status = 'lost-at-source';
  }
  const markerLayout = { prefix, template: options.template, ...options.markers };
  const markersUnchecked = markersUncheckable(markerLayout);
  const markers = markersUnchecked ? [] : await checkMarkers(store, listing, seals, markerLayout);
  const problems =
    sorted.reduce(
      (n, c) => n + c.problems.length + (c.lostAtSource.length > 0 && !options.allowLost ? 1 : 0),
      0,
    ) + markers.filter((m) => m.state !== 'marked').length;
  return {
    location: store.location,
    prefix,
    cells: sorted,
    markers,
    markersUnchecked,
    problems,
    ok: problems === 0,
  };
}

async function checkManifest(
  store: LakeStore,
  file: StoredFile,
  window: string,
  partition: string,
  byPath: Map<string, StoredFile>,
  options: VerifyOptions,
): Promise<{ cell: Cell; listed: string[]; manifest: PartitionManifest | null }> {
  const cell: Cell = {
    source: 'hubcap',
    window,
    partition,
    status: 'complete',
    sequences: null,
    events: 0,
    files: 0,
    lostAtSource: [],
    problems: [],
  };
  const manifest = parseManifest((await store.read(file.path)) ?? Buffer.alloc(0), partition);
  if (typeof manifest === 'string') {
    cell.problems.push({ kind: 'bad-manifest', path: file.path, message: `${file.path}: ${manifest}` });
    return { cell, listed: [], manifest: null };
  }
  Object.assign(cell, {
    sequences: manifest.sequences,
    events: manifest.events,
    files: manifest.files.length,
    lostAtSource: manifest.lostAtSource,
  });
  for (const listed of manifest.files) {
    const actual = byPath.get(listed.path);
    if (!actual) {
      cell.problems.push({
        kind: 'missing-file',
        path: listed.path,
        message: `${listed.path} is listed but missing`,
      });
      continue;
    }
    if (actual.bytes !== listed.bytes)
      cell.problems.push({
        kind: 'size-mismatch',
        path: listed.path,
        message: `${listed.path} has ${actual.bytes} bytes, the manifest says ${listed.bytes}`,
      });
    const bytes = options.deep ? await store.read(listed.path) : null;
    const md5 = bytes ? createHash('md5').update(bytes).digest('base64') : actual.md5;
    if (listed.md5 !== null && md5 !== null && md5 !== listed.md5)
      cell.problems.push({
        kind: 'checksum-mismatch',
        path: listed.path,
        message: `${listed.path} has MD5 ${md5}, the manifest says ${listed.md5}`,
      });
  }
  const units = merge([
    ...manifest.files.map((f) => ({ ...f, deadLetter: f.kind === 'deadLetter' })),
    ...manifest.lostAtSource.map((r) => ({ ...r, path: '(lost at source)' })),
  ]);
  cell.problems.push(...overlaps(units));
  const holes = gaps(units);
  if (holes.length > 0)
    cell.problems.push({ kind: 'gap', ranges: holes, message: `sequence numbers missing: ${show(holes)}` });
  if (manifest.sequences && units.length > 0) {
    const covered = range(units[0]!.firstSequence, units[units.length - 1]!.lastSequence);
    if (
      covered.firstSequence !== manifest.sequences.firstSequence ||
      covered.lastSequence !== manifest.sequences.lastSequence
    )
      cell.problems.push({
        kind: 'bad-manifest',
        path: file.path,
        message: `${file.path}: its range ${show([manifest.sequences])} is not what its files cover (${show([covered])})`,
      });
  }
  return { cell, listed: manifest.files.map((f) => f.path), manifest };
}

/** The manifest, or why it cannot be read. */
function parseManifest(bytes: Buffer, partition: string): PartitionManifest | string {
  const manifest = parseJsonFile(bytes, PartitionManifestSchema, 'a manifest', 64);
  if (typeof manifest === 'string' || manifest.partition === partition) return manifest;
  return `names partition ${manifest.partition}, not ${partition}`;
}

/**
 * Between a partition's windows: the next one starts right after the last one ends, and only the
 * newest window may be open (an older open window has files no manifest accounts for).
 */
function checkAcrossWindows(cells: Cell[]): void {
  let previous: SequenceRange | null = null;
  let previousSource: Cell['source'] = 'hubcap';
  for (let i = 0; i < cells.length; i++) {
    const cell = cells[i]!;
    if (cells[i - 1]?.partition !== cell.partition) previous = null;
    const since =
      previousSource !== cell.source ? "Capture's last file (the handover)" : 'the previous window';
    const newest = cells[i + 1]?.partition !== cell.partition;
    if (cell.status === 'open' && !newest)
      cell.problems.push({
        kind: 'unlisted-file',
        message: `${cell.files} file(s) without a manifest in a window older than the partition's newest`,
      });
    const current = cell.sequences;
    if (!current) continue;
    if (previous && current.firstSequence > previous.lastSequence + 1) {
      const hole = range(previous.lastSequence + 1, current.firstSequence - 1);
      cell.problems.push({
        kind: 'gap',
        ranges: [hole],
        message: `sequence numbers missing since ${since}: ${show([hole])}`,
      });
    }
    if (previous && current.firstSequence <= previous.lastSequence) {
      const both = range(current.firstSequence, previous.lastSequence);
      cell.problems.push({
        kind: 'overlap',
        ranges: [both],
        message: `sequence numbers also in ${since}: ${show([both])}`,
      });
    }
    previous = current;
    previousSource = cell.source;
  }
}

/** The report as text: one line per window and partition, then its problems. */
export function formatReport(report: VerifyReport): string {
  const lines = [`${report.location} ${report.prefix || '(root)'}`];
  for (const c of report.cells) {
    const seq = c.sequences ? `${c.sequences.firstSequence}–${c.sequences.lastSequence}` : 'empty';
    const lost = c.lostAtSource.length ? ` lost at source: ${show(c.lostAtSource)}` : '';
    lines.push(
      `${c.status.padEnd(14)} ${c.window} partition ${c.partition}: ${seq}, ${c.events} events, ${c.files} files${lost}`,
    );
    for (const p of c.problems) lines.push(`  ${p.kind}: ${p.message}`);
  }
  for (const m of report.markers)
    if (m.state !== 'marked') lines.push(`${m.state.padEnd(14)} ${m.window} ${m.message}`);
  if (report.markersUnchecked) lines.push(`markers not checked: ${report.markersUnchecked}`);
  const marked = report.markers.filter((m) => m.state === 'marked').length;
  if (marked > 0) lines.push(`${marked} topic marker(s) agree with their manifests`);
  lines.push(report.ok ? 'ok' : `${report.problems} problem(s)`);
  return lines.join('\n');
}
