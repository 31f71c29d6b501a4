import type { ContainerClient } from '@azure/storage-blob';

/** The checkpointed sequence number of each partition (-1: none yet). */
export async function checkpointed(checkpoints: ContainerClient, partitions: number): Promise<number[]> {
  const at = Array.from({ length: partitions }, () => -1);
  for await (const blob of checkpoints.listBlobsFlat({ includeMetadata: true })) {
    const partition = /\/checkpoint\/(\d+)$/.exec(blob.name)?.[1];
    if (partition !== undefined) at[Number(partition)] = Number(blob.metadata?.sequencenumber);
  }
  return at;
}
