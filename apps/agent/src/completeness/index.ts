import type { EventHubConsumerClient } from '@azure/event-hubs';
import type { TopicConfig } from '@hubcap/shared';
import type { PathLayout } from '../pipeline/paths.ts';
import type { Logger } from '../runtime/logger.ts';
import type { Sink } from '../sink/sink.ts';
import { type CompletenessOptions, markIfComplete, PartitionSealer, writeManifest } from './sealer.ts';
import { type Window, WindowStore } from './window-store.ts';

export { PartitionSealer } from './sealer.ts';
export { WindowStore } from './window-store.ts';

/** How many windows a replay seals at once (each with all its partitions). */
const SEAL_WINDOWS_AT_ONCE = 8;

/** A topic's completeness: one sealer per claimed partition, sharing the topic's window store. */
export class Completeness {
  readonly #topic: string;
  readonly #store: WindowStore;
  readonly #client: EventHubConsumerClient;
  #partitionIds: Promise<string[]> | null = null;

  constructor(options: {
    config: TopicConfig;
    layout: PathLayout;
    sink: Sink;
    client: EventHubConsumerClient;
  }) {
    this.#topic = options.config.topic;
    this.#store = new WindowStore(options.layout, options.sink, options.config.completeness.markerPath);
    this.#client = options.client;
  }

  partition(
    partitionId: string,
    resumedFrom: number | null,
    owns: (signal: AbortSignal) => Promise<boolean>,
    log: Logger,
  ): PartitionSealer {
    return new PartitionSealer(this.#options(log), partitionId, resumedFrom, owns);
  }

  /** The windows that lie whole in [from, to): a window starting before `from` or ending after `to` is not. */
  windowsWithin(from: number, to: number): Window[] {
    const windows: Window[] = [];
    let window = this.#store.windowOf(from);
    if (window.start < from) window = this.#store.windowOf(window.end);
    for (; window.end <= to; window = this.#store.windowOf(window.end)) windows.push(window);
    return windows;
  }

  /** The windows [from, to) cuts: the one holding `from` unless it starts there, and the one holding `to`. */
  windowsCut(from: number, to: number): Window[] {
    const whole = this.windowsWithin(from, to);
    const ends = [this.#store.windowOf(from), this.#store.windowOf(to - 1)];
    return ends.filter(
      (w, i) => i === ends.findIndex((x) => x.start === w.start) && !whole.some((x) => x.start === w.start),
    );
  }

  /**
   * A replay's seal of `windows`, after every event of `partitions` in them is landed: their manifests,
   * derived from storage as the live agent derives them (the same bytes in the topic's own layout), then
   * each window's topic marker once every partition of the hub has a manifest of it. With `sealedOnly`,
   * only manifests that exist are derived again: a window the replay cut is whole in storage only where
   * the live agent sealed it, and a rewrite that changed a file's bytes must not leave its old checksum
   * there. Idempotent: a resumed run writes nothing new.
   */
  async sealReplayed(
    windows: Window[],
    partitions: string[],
    log: Logger,
    signal: AbortSignal,
    sealedOnly = false,
  ): Promise<{ manifests: number; markers: number }> {
    const o = this.#options(log);
    // A replay takes no ownership: only a stop keeps it from writing.
    const fence = async (s: AbortSignal) => s.throwIfAborted();
    let [count, markers] = [0, 0];
    const seal = async (window: Window) => {
      const sealed = sealedOnly
        ? await filterAsync(
            partitions,
            async (p) => (await this.#store.readManifest(p, window, signal)) !== null,
          )
        : partitions;
      const manifests = await Promise.all(sealed.map((p) => writeManifest(o, p, window, fence, signal)));
      count += manifests.length;
      if (manifests.length > 0 && (await markIfComplete(o, window, manifests, fence, signal))) markers++;
    };
    // Windows are independent: a few at once, so a 90-day replay waits on storage in parallel.
    for (let i = 0; i < windows.length; i += SEAL_WINDOWS_AT_ONCE)
      await Promise.all(windows.slice(i, i + SEAL_WINDOWS_AT_ONCE).map(seal));
    log.info({ windows: windows.length, manifests: count, markers, sealedOnly }, 'replayed windows sealed');
    return { manifests: count, markers };
  }

  #options(log: Logger): CompletenessOptions {
    return {
      topic: this.#topic,
      store: this.#store,
      log,
      partitionIds: (signal: AbortSignal) => this.#ids(signal),
    };
  }

  /** The hub's partitions, asked once (a failed ask is asked again next time). */
  #ids(signal: AbortSignal): Promise<string[]> {
    this.#partitionIds ??= this.#client.getPartitionIds({ abortSignal: signal });
    this.#partitionIds.catch(() => {
      this.#partitionIds = null;
    });
    return this.#partitionIds;
  }
}

/** Completeness for a topic whose template has windows (time variables); null otherwise. */
export function completenessFor(options: {
  config: TopicConfig;
  layout: PathLayout;
  sink: Sink;
  client: EventHubConsumerClient;
}): Completeness | null {
  return WindowStore.applies(options.layout) ? new Completeness(options) : null;
}

async function filterAsync<T>(items: T[], keep: (item: T) => Promise<boolean>): Promise<T[]> {
  const kept = await Promise.all(items.map(keep));
  return items.filter((_, i) => kept[i]);
}
