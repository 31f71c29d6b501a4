import { manifestBytes, type PartitionManifest } from '@hubcap/shared';
import type { Logger } from '../runtime/logger.ts';
import type { Window, WindowStore } from './window-store.ts';

/** How many windows back a partition claimed after a restart looks for the window of its checkpoint. */
const LOOKBACK_WINDOWS = 48;
/** At most this many empty windows are sealed at once (a partition idle for long catches up in steps). */
const MAX_SEAL_BATCH = 200;
/** The service's clock and ours may differ: a window is sealed on idleness only this long after its end. */
const CLOCK_SKEW_MS = 5000;

export interface CompletenessOptions {
  topic: string;
  store: WindowStore;
  partitionIds(signal: AbortSignal): Promise<string[]>;
  log: Logger;
}

export interface FileFacts {
  firstEnqueuedTime: Date;
  firstSequence: number;
  lastSequence: number;
}

/**
 * One partition's windows, sealed in order. Rules (the same as for data files):
 * - a window's manifest is written before the checkpoint of the first file of a later window
 *   (`beforeCheckpoint`), or once the partition is caught up and the window has ended (`idle`);
 * - a gap before a file (the first event after the checkpoint is not checkpoint + 1: retention expired
 *   the range) is recorded in storage before that file's checkpoint;
 * - what is written is derived from storage, so a restart or another replica writes the same bytes;
 * - `owns` is asked before every write: a replica that lost the partition writes nothing.
 */
export class PartitionSealer {
  readonly #o: CompletenessOptions;
  readonly #partition: string;
  readonly #owns: (signal: AbortSignal) => Promise<boolean>;
  readonly #resumedFrom: number | null;
  /** The next sequence number this partition should land; null before the first file after a fresh start. */
  #expected: number | null;
  /** Start of the first window not sealed yet; null until known. */
  #open: number | null = null;
  #chain: Promise<void> = Promise.resolve();

  constructor(
    options: CompletenessOptions,
    partition: string,
    resumedFrom: number | null,
    owns: (signal: AbortSignal) => Promise<boolean>,
  ) {
    this.#o = options;
    this.#partition = partition;
    this.#resumedFrom = resumedFrom;
    this.#expected = resumedFrom === null ? null : resumedFrom + 1;
    this.#owns = owns;
  }

  /** Called after a file is published and before it is checkpointed. */
  beforeCheckpoint(file: FileFacts, signal: AbortSignal): Promise<void> {
    return this.#serial(async () => {
      const { store } = this.#o;
      const window = store.windowOf(file.firstEnqueuedTime.getTime());
      const from =
        this.#expected === null || file.firstSequence <= this.#expected
          ? file.firstSequence
          : Math.max(this.#expected, (await this.#lastLandedBefore(file.firstSequence, window, signal)) + 1);
      if (from < file.firstSequence) {
        const range = { firstSequence: from, lastSequence: file.firstSequence - 1 };
        await this.#fence(signal);
        await store.put(
          this.#partition,
          store.lostRecordPath(this.#partition, window, range),
          Buffer.from('{}\n'),
          signal,
        );
        this.#o.log.warn(
          { ...range, events: range.lastSequence - range.firstSequence + 1 },
          'sequence numbers lost at source (expired by retention before they were read)',
        );
      }
      this.#expected = file.lastSequence + 1;
      await this.#sealBefore(window.start, signal);
    });
  }

  /**
   * The partition has nothing pending and the service held no newer event when asked at `readAt`:
   * every window that ended before then is sealed.
   */
  idle(readAt: number, signal: AbortSignal): Promise<void> {
    return this.#serial(() => this.#sealBefore(this.#o.store.windowOf(readAt - CLOCK_SKEW_MS).start, signal));
  }

  /**
   * The last sequence number of this partition's files before `sequence`, in `window` or the windows
   * before it (-1 when none): the checkpoint this sealer was told about may be older than what is in
   * storage (another replica or an earlier run landed more), and what is landed is not lost.
   */
  async #lastLandedBefore(sequence: number, window: Window, signal: AbortSignal): Promise<number> {
    const { store, topic } = this.#o;
    for (let n = 0; n < LOOKBACK_WINDOWS; n++) {
      const { files } = await store.facts(topic, this.#partition, window, signal);
      const before = files.filter((f) => f.lastSequence < sequence).map((f) => f.lastSequence);
      if (before.length > 0) return Math.max(...before);
      window = store.windowOf(window.start - 1);
    }
    return -1;
  }

  #serial(step: () => Promise<void>): Promise<void> {
    const next = this.#chain.then(step);
    this.#chain = next.catch(() => {});
    return next;
  }

  async #fence(signal: AbortSignal): Promise<void> {
    if (signal.aborted || !(await this.#owns(signal)))
      throw new Error(`partition ${this.#partition} is owned by another replica`);
  }

  /** Seals every unsealed window that starts before `limit`. */
  async #sealBefore(limit: number, signal: AbortSignal): Promise<void> {
    this.#open ??= await this.#firstUnsealed(limit, signal);
    for (let n = 0; this.#open < limit && n < MAX_SEAL_BATCH; n++) {
      const window = this.#o.store.windowOf(this.#open);
      await this.#seal(window, signal);
      this.#open = window.end;
    }
  }

  /**
   * After a (re)start: the window of the checkpoint, unless it is sealed already. Without a checkpoint
   * (the partition's first events), the earliest of the windows just before `limit` that other
   * partitions sealed: this partition had nothing in them, and the topic marker waits for it. Never
   * further back than the lookback.
   */
  async #firstUnsealed(limit: number, signal: AbortSignal): Promise<number> {
    const { store, topic } = this.#o;
    let window = store.windowOf(limit);
    if (this.#resumedFrom === null) {
      let open = window.start;
      const others = (await this.#o.partitionIds(signal)).filter((p) => p !== this.#partition);
      for (let n = 0; n < LOOKBACK_WINDOWS && others.length > 0; n++) {
        window = store.windowOf(window.start - 1);
        if (await store.readManifest(this.#partition, window, signal)) break;
        if (!(await this.#anySealed(others, window, signal))) break;
        open = window.start;
      }
      return open;
    }
    for (let n = 0; n < LOOKBACK_WINDOWS; n++) {
      const manifest = await store.readManifest(this.#partition, window, signal);
      if (manifest) {
        // A crash between this manifest and the topic marker (written by whoever seals last) leaves
        // the window unmarked; nobody else seals it again, so the marker is written here if due.
        await markIfComplete(this.#o, window, [manifest], (s) => this.#fence(s), signal);
        return window.end;
      }
      const facts = await store.facts(topic, this.#partition, window, signal);
      if (facts.files.some((f) => f.lastSequence === this.#resumedFrom)) return window.start;
      window = store.windowOf(window.start - 1);
    }
    return limit;
  }

  async #anySealed(partitions: string[], window: Window, signal: AbortSignal): Promise<boolean> {
    for (const partition of partitions) {
      if (await this.#o.store.readManifest(partition, window, signal)) return true;
    }
    return false;
  }

  async #seal(window: Window, signal: AbortSignal): Promise<void> {
    const fence = (s: AbortSignal) => this.#fence(s);
    const manifest = await writeManifest(this.#o, this.#partition, window, fence, signal);
    const marker = await markIfComplete(this.#o, window, [manifest], fence, signal);
    this.#o.log.info(
      { window: manifest.window.start, events: manifest.events, files: manifest.files.length, marker },
      'window sealed',
    );
  }
}

type Fence = (signal: AbortSignal) => Promise<void>;

/** A partition's manifest of `window`, derived from storage and written once `fence` allows it. */
export async function writeManifest(
  o: CompletenessOptions,
  partition: string,
  window: Window,
  fence: Fence,
  signal: AbortSignal,
): Promise<PartitionManifest> {
  const { store, topic } = o;
  const manifest = await store.deriveManifest(topic, partition, window, signal);
  await fence(signal);
  await store.put(partition, store.manifestPath(partition, window), manifestBytes(manifest), signal);
  return manifest;
}

/**
 * The topic marker of `window`, once every partition's manifest of it exists (`known`: those the caller
 * has just written; the others are read). Returns whether it was written.
 */
export async function markIfComplete(
  o: CompletenessOptions,
  window: Window,
  known: PartitionManifest[],
  fence: Fence,
  signal: AbortSignal,
): Promise<boolean> {
  const { store, topic } = o;
  const manifests = [...known];
  for (const partition of await o.partitionIds(signal)) {
    if (known.some((m) => m.partition === partition)) continue;
    const manifest = await store.readManifest(partition, window, signal);
    if (!manifest) return false;
    manifests.push(manifest);
  }
  await fence(signal);
  await store.put(known[0]!.partition, store.markerPath(window), store.marker(topic, manifests), signal);
  return true;
}
