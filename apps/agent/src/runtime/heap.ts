import { setFlagsFromString } from 'node:v8';

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

/** Applies the agent's heap tuning; V8 reads it at every full collection, so it acts from now on. */
export function tuneHeap(): void {
  setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
}
