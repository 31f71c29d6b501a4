import type { EventHubConsumerClient } from '@azure/event-hubs';
import type { TopicConfig } from '@hubcap/shared';
import type { PathLayout } from '../pipeline/paths.ts';
import type { Logger } from '../runtime/logger.ts';
import type { Sink } from '../sink/sink.ts';
import { PartitionSealer } from './sealer.ts';
import { WindowStore } from './window-store.ts';

export { PartitionSealer } from './sealer.ts';
export { WindowStore } from './window-store.ts';

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
    const options = {
      topic: this.#topic,
      store: this.#store,
      log,
      partitionIds: (signal: AbortSignal) => this.#ids(signal),
    };
    return new PartitionSealer(options, partitionId, resumedFrom, owns);
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
