import { randomUUID } from 'node:crypto';
import { mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Checkpoint, CheckpointStore, PartitionOwnership } from '@azure/event-hubs';

const safe = (part: string) => encodeURIComponent(part.toLowerCase());

interface OwnershipRecord {
  ownerId: string;
  etag: string;
  lastModifiedTimeInMs: number;
}

/**
 * A CheckpointStore in a local folder (for the localFolder destination), with the same layout idea as
 * BlobCheckpointStore: `<root>/<namespace>/<hub>/<consumerGroup>/{ownership,checkpoint}/<partition>.json`.
 * Ownership claims compare etags, and every write is a temp file + rename, so readers never see a torn
 * record. Claims by processes racing on the same file are last-writer-wins within one load-balancing
 * cycle; good enough for a development destination, not meant for shared network folders.
 */
export class FileCheckpointStore implements CheckpointStore {
  readonly #root: string;

  constructor(root: string) {
    this.#root = root;
  }

  #dir(ns: string, hub: string, group: string, kind: 'ownership' | 'checkpoint') {
    return join(this.#root, safe(ns), safe(hub), safe(group), kind);
  }

  async #readAll<T>(dir: string): Promise<Map<string, T>> {
    const out = new Map<string, T>();
    let names: string[];
    try {
      names = await readdir(dir);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return out;
      throw error;
    }
    for (const name of names) {
      if (!name.endsWith('.json')) continue;
      try {
        out.set(
          decodeURIComponent(name.slice(0, -5)),
          JSON.parse(await readFile(join(dir, name), 'utf8')) as T,
        );
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      }
    }
    return out;
  }

  async #write(dir: string, partitionId: string, value: unknown): Promise<void> {
    await mkdir(dir, { recursive: true });
    const target = join(dir, `${encodeURIComponent(partitionId)}.json`);
    const temp = `${target}.${randomUUID()}.tmp`;
    await writeFile(temp, JSON.stringify(value));
    await rename(temp, target);
  }

  async listOwnership(ns: string, hub: string, group: string): Promise<PartitionOwnership[]> {
    const records = await this.#readAll<OwnershipRecord>(this.#dir(ns, hub, group, 'ownership'));
    return [...records].map(([partitionId, r]) => ({
      fullyQualifiedNamespace: ns,
      eventHubName: hub,
      consumerGroup: group,
      partitionId,
      ownerId: r.ownerId,
      etag: r.etag,
      lastModifiedTimeInMs: r.lastModifiedTimeInMs,
    }));
  }

  async claimOwnership(claims: PartitionOwnership[]): Promise<PartitionOwnership[]> {
    const claimed: PartitionOwnership[] = [];
    for (const claim of claims) {
      const dir = this.#dir(
        claim.fullyQualifiedNamespace,
        claim.eventHubName,
        claim.consumerGroup,
        'ownership',
      );
      const current = (await this.#readAll<OwnershipRecord>(dir)).get(claim.partitionId);
      if (current && current.etag !== claim.etag) continue;
      const record: OwnershipRecord = {
        ownerId: claim.ownerId,
        etag: randomUUID(),
        lastModifiedTimeInMs: Date.now(),
      };
      await this.#write(dir, claim.partitionId, record);
      claimed.push({ ...claim, etag: record.etag, lastModifiedTimeInMs: record.lastModifiedTimeInMs });
    }
    return claimed;
  }

  async updateCheckpoint(checkpoint: Checkpoint): Promise<void> {
    const dir = this.#dir(
      checkpoint.fullyQualifiedNamespace,
      checkpoint.eventHubName,
      checkpoint.consumerGroup,
      'checkpoint',
    );
    await this.#write(dir, checkpoint.partitionId, {
      sequenceNumber: checkpoint.sequenceNumber,
      offset: checkpoint.offset,
    });
  }

  async listCheckpoints(ns: string, hub: string, group: string): Promise<Checkpoint[]> {
    const records = await this.#readAll<{ sequenceNumber: number; offset: string }>(
      this.#dir(ns, hub, group, 'checkpoint'),
    );
    return [...records].map(([partitionId, r]) => ({
      fullyQualifiedNamespace: ns,
      eventHubName: hub,
      consumerGroup: group,
      partitionId,
      sequenceNumber: r.sequenceNumber,
      offset: r.offset,
    }));
  }
}
