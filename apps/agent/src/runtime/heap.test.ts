import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { agentNodeOptions } from '@hubcap/shared';
import { describe, expect, it } from 'vitest';

const HEAP = fileURLToPath(new URL('./heap.ts', import.meta.url));

/**
 * An agent-like heap in a process with the deployer's limits for 256Mi: ~35 MiB that stays alive
 * (code, clients) and events that live long enough to be promoted before they are dropped. Prints
 * the number of full (mark-compact) collections.
 */
const WORKLOAD = (tune: boolean) => `
import { PerformanceObserver, constants } from 'node:perf_hooks';
${tune ? `if (!(await import(${JSON.stringify(HEAP)})).tuneHeap()) throw new Error('not tuned');` : ''}
let full = 0;
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) if (e.detail.kind === constants.NODE_PERFORMANCE_GC_MAJOR) full++;
}).observe({ entryTypes: ['gc'] });
globalThis.live = Array.from({ length: 35 * 1024 }, (_, i) => ({ i, text: 'x'.repeat(1000) + i }));
const waiting = new Array(10_000);
for (let n = 0; n < 1_000_000; n++) waiting[n % waiting.length] = { n, body: 'y'.repeat(1000) + n };
await new Promise((resolve) => setTimeout(resolve, 100));
process.stdout.write(String(full));
`;

async function fullCollections(tune: boolean, memory = '384Mi'): Promise<number> {
  const [semi, old] = agentNodeOptions(memory).split(' ');
  const { stdout } = await promisify(execFile)(process.execPath, [
    semi!,
    old!,
    // Concurrent marking finishes sooner or later with the machine's load; on one thread the count
    // depends on the heap alone.
    '--single-threaded-gc',
    '--input-type=module',
    '-e',
    WORKLOAD(tune),
  ]);
  return Number(stdout);
}

describe('heap tuning', () => {
  it('runs far fewer full collections under the deployed heap limit', { timeout: 60_000 }, async () => {
    const untuned = await fullCollections(false);
    const tuned = await fullCollections(true);
    expect(untuned).toBeGreaterThan(0);
    expect(tuned).toBeLessThan(untuned * 0.8);
  });

  it('is left off under 256Mi, where a catch-up after a storage stall has no room for it', async () => {
    await expect(fullCollections(true, '256Mi')).rejects.toThrow('not tuned');
  });
});
