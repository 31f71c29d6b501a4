import type { Checkpoint, CheckpointStore, OperationOptions, PartitionOwnership } from '@azure/event-hubs';
import { checkpointNamespace } from '@hubcap/shared';

/**
 * A checkpoint store confined to one topic: every ownership and checkpoint is kept under the topic's
 * own namespace key (`topics/<topic>/<namespace>/…`), so another topic sharing the container and even
 * the consumer group can neither read nor claim them.
 *
 * Checkpoints written before this layout (`<namespace>/…`, shared by every topic of a hub and group)
 * are read for partitions the topic has not checkpointed yet, so an upgraded agent resumes where it
 * stopped instead of replaying the hub; it never writes there again, and ownership is never read there.
 */
export class TopicCheckpointStore implements CheckpointStore {
  readonly #inner: CheckpointStore;
  readonly #topic: string;
  readonly #legacy: boolean;

  /** `legacy: false`: a store of its own from the start (a replay's), which never reads the shared layout. */
  constructor(inner: CheckpointStore, topic: string, options: { legacy?: boolean } = {}) {
    this.#inner = inner;
    this.#topic = topic;
    this.#legacy = options.legacy ?? true;
  }

  #scoped(namespace: string): string {
    return checkpointNamespace(this.#topic, namespace);
  }

  async listOwnership(
    namespace: string,
    hub: string,
    group: string,
    options?: OperationOptions,
  ): Promise<PartitionOwnership[]> {
    const owned = await this.#inner.listOwnership(this.#scoped(namespace), hub, group, options);
    return owned.map((o) => ({ ...o, fullyQualifiedNamespace: namespace }));
  }

  async claimOwnership(
    ownerships: PartitionOwnership[],
    options?: OperationOptions,
  ): Promise<PartitionOwnership[]> {
    const claimed = await this.#inner.claimOwnership(
      ownerships.map((o) => ({ ...o, fullyQualifiedNamespace: this.#scoped(o.fullyQualifiedNamespace) })),
      options,
    );
    const byPartition = new Map(ownerships.map((o) => [o.partitionId, o.fullyQualifiedNamespace]));
    return claimed.map((o) => ({ ...o, fullyQualifiedNamespace: byPartition.get(o.partitionId) ?? '' }));
  }

  async listCheckpoints(
    namespace: string,
    hub: string,
    group: string,
    options?: OperationOptions,
  ): Promise<Checkpoint[]> {
    const [own, legacy] = await Promise.all([
      this.#inner.listCheckpoints(this.#scoped(namespace), hub, group, options),
      this.#legacy ? this.#inner.listCheckpoints(namespace, hub, group, options) : [],
    ]);
    const mine = new Set(own.map((c) => c.partitionId));
    return [...own, ...legacy.filter((c) => !mine.has(c.partitionId))].map((c) => ({
      ...c,
      fullyQualifiedNamespace: namespace,
    }));
  }

  updateCheckpoint(checkpoint: Checkpoint, options?: OperationOptions): Promise<void> {
    return this.#inner.updateCheckpoint(
      { ...checkpoint, fullyQualifiedNamespace: this.#scoped(checkpoint.fullyQualifiedNamespace) },
      options,
    );
  }
}
