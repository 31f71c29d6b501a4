import {
  buildPartitionManifest,
  buildTopicMarker,
  lostRecordPath,
  MANIFEST_FOLDER,
  type ManifestFacts,
  manifestBytes,
  manifestPath,
  markerPath,
  type PartitionManifest,
  PartitionManifest as PartitionManifestSchema,
  parseLostRecordName,
  parseSegmentFileName,
  type SequenceRange,
  type WindowLayout,
  windowFolderPath,
  windowOf,
  windowTemplate,
} from '@hubcap/shared';
import { DEAD_LETTER_EXTENSION, DEAD_LETTER_FOLDER } from '../pipeline/dead-letter.ts';
import type { PathLayout } from '../pipeline/paths.ts';
import type { Sink } from '../sink/sink.ts';

export interface Window {
  start: number;
  end: number;
}

const countLines = (bytes: Buffer) => {
  let n = 0;
  for (let i = bytes.indexOf(10); i !== -1; i = bytes.indexOf(10, i + 1)) n++;
  return n;
};

/**
 * A topic's windows in storage: where a partition's files, manifest and lost-at-source records of a
 * window are, and the manifest storage says (derived from a listing, never from memory, so that a
 * restart or another replica derives the same bytes).
 */
export class WindowStore {
  readonly #layout: PathLayout & WindowLayout;
  readonly #sink: Sink;

  constructor(layout: PathLayout, sink: Sink, markerPath: string | undefined) {
    this.#layout = { ...layout, markerPath };
    this.#sink = sink;
  }

  /** Whether the template has windows at all (a template without time variables has none). */
  static applies(layout: PathLayout): boolean {
    return windowTemplate(layout.template) !== null;
  }

  windowOf(time: number): Window {
    return windowOf(this.#layout.template, new Date(time))!;
  }

  folder(partition: string, window: Window): string {
    return windowFolderPath(this.#layout, partition, window.start)!;
  }

  manifestPath(partition: string, window: Window): string {
    return manifestPath(this.#layout, partition, window.start)!;
  }

  markerPath(window: Window): string {
    return markerPath(this.#layout, window.start)!;
  }

  lostRecordPath(partition: string, window: Window, range: SequenceRange): string {
    return lostRecordPath(this.#layout, partition, window.start, range)!;
  }

  async readManifest(
    partition: string,
    window: Window,
    signal: AbortSignal,
  ): Promise<PartitionManifest | null> {
    const bytes = await this.#sink.read(this.manifestPath(partition, window), signal);
    if (!bytes) return null;
    try {
      const parsed = PartitionManifestSchema.safeParse(JSON.parse(bytes.toString('utf8')));
      return parsed.success ? parsed.data : null;
    } catch {
      return null; // not JSON: rewritten from storage by the sealer
    }
  }

  /** The partition's data and dead-letter files placed in the window, and its lost-at-source records. */
  async facts(topic: string, partition: string, window: Window, signal: AbortSignal): Promise<ManifestFacts> {
    const folder = this.folder(partition, window);
    const prefix = this.#layout.prefix.replace(/^\/+|\/+$/g, '');
    const relative = folder.slice(prefix.length).replace(/^\//, '');
    const dlFolder = [prefix, DEAD_LETTER_FOLDER, relative].filter(Boolean).join('/');
    const [data, deadLetters, records] = await Promise.all([
      this.#sink.describe(`${folder}/`, signal),
      this.#sink.describe(`${dlFolder}/`, signal),
      this.#sink.describe(`${folder}/${MANIFEST_FOLDER}/${partition}-`, signal),
    ]);
    const ours = (path: string, extension: string) => {
      if (path.split('/').includes(MANIFEST_FOLDER)) return null;
      const parsed = parseSegmentFileName(path.slice(path.lastIndexOf('/') + 1));
      return parsed && parsed.partition === partition && parsed.extension === extension ? parsed : null;
    };
    const files: ManifestFacts['files'] = [];
    const deadLettered = new Map<string, number>();
    for (const file of deadLetters) {
      const range = ours(file.path, DEAD_LETTER_EXTENSION);
      if (!range) continue;
      const lines = countLines((await this.#sink.read(file.path, signal)) ?? Buffer.alloc(0));
      deadLettered.set(`${range.firstSequence}-${range.lastSequence}`, lines);
      files.push({ ...file, ...range, kind: 'deadLetter', events: lines });
    }
    for (const file of data) {
      const range = ours(file.path, this.#layout.extension);
      if (!range) continue;
      // Sequence numbers are contiguous: what the range holds and the dead letters do not, the file does.
      const span = range.lastSequence - range.firstSequence + 1;
      const events = span - (deadLettered.get(`${range.firstSequence}-${range.lastSequence}`) ?? 0);
      files.push({ ...file, ...range, kind: 'data', events });
    }
    const lostAtSource = records
      .map((r) => parseLostRecordName(r.path.slice(r.path.lastIndexOf('/') + 1)))
      .filter((r) => r !== null && r.partition === partition) as SequenceRange[];
    return {
      topic,
      partition,
      window,
      files: files.map(({ path, bytes, md5, firstSequence, lastSequence, kind, events }) => ({
        path,
        bytes,
        md5,
        firstSequence,
        lastSequence,
        kind,
        events,
      })),
      lostAtSource,
    };
  }

  async deriveManifest(
    topic: string,
    partition: string,
    window: Window,
    signal: AbortSignal,
  ): Promise<PartitionManifest> {
    return buildPartitionManifest(await this.facts(topic, partition, window, signal));
  }

  /**
   * Writes `bytes` at `path` unless the same bytes are there (so the first write's time stays the
   * window's completion time). Staged under the partition's staging name, which sweeps recognise.
   */
  async put(partition: string, path: string, bytes: Buffer, signal: AbortSignal): Promise<boolean> {
    const existing = await this.#sink.read(path, signal);
    if (existing?.equals(bytes)) return false;
    const stagingName = `${partition}-${String(Date.now()).padStart(20, '0')}`;
    const file = this.#sink.openFile(stagingName, 'application/json', signal);
    file.stream.end(bytes);
    await new Promise<void>((resolve, reject) => {
      file.stream.once('finish', resolve);
      file.stream.once('error', reject);
    });
    await file.publish(path);
    return true;
  }

  marker(topic: string, manifests: PartitionManifest[]): Buffer {
    return manifestBytes(buildTopicMarker(topic, manifests));
  }
}
