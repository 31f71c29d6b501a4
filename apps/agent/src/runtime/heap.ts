import { getHeapStatistics, setFlagsFromString } from 'node:v8';

/**
 * How far V8 lets the old generation grow past what the last full collection kept, in percent.
 * Under the heap limit the deployer sets from `scaling.memory` (160 MiB of old space at 256Mi), V8
 * picks a growing factor of about 1.3 (it scales with the limit), so with ~35 MiB live a full
 * collection runs every ~12 MiB of promoted events: about one per 4,000 events flat out. Doubling
 * instead keeps the heap far below its limit (the limit still forces a collection): flat out, NDJSON
 * + gzip, 200,000 events, 42–48 → 16–17 full collections and about 20 % less CPU per GB, for ~15 MiB
 * more peak RSS (bench/results.md).
 */
export const HEAP_GROWING_PERCENT = 100;

/**
 * The least V8 heap limit (old and young generation) the tuning applies to: the deployer's for 384Mi
 * (~264 MiB). Under 256Mi's (~184 MiB) the catch-up after a storage stall outgrew the pod's limit with
 * it (272 against 256 MiB, test/storage-stall.test.ts) and stayed under without it.
 */
const MIN_HEAP_LIMIT_BYTES = 240 * 2 ** 20;

/**
 * Applies the agent's heap tuning where the memory limit leaves room for it; V8 reads it at every full
 * collection, so it acts from now on. Returns whether it applied.
 */
export function tuneHeap(): boolean {
  if (getHeapStatistics().heap_size_limit < MIN_HEAP_LIMIT_BYTES) return false;
  setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
  return true;
}
