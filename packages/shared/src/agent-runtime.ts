const UNITS: Record<string, number> = {
  '': 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
};

/** Bytes of a Kubernetes memory quantity such as "512Mi", "1Gi" or "300M". */
export function memoryBytes(quantity: string): number {
  const match = /^(\d+)(Ki|Mi|Gi|Ti|k|M|G|T)?$/.exec(quantity);
  if (!match) throw new Error(`"${quantity}" is not a memory quantity such as "256Mi" or "1Gi"`);
  return Number(match[1]) * (UNITS[match[2] ?? ''] ?? 1);
}

/** Young-generation semi-space, MiB: every scavenge copies the events still queued, so it stays small. */
const SEMI_SPACE_MIB = 8;
/** Share of the memory limit for V8's old generation; the rest holds buffers, code and native memory. */
const OLD_SPACE_SHARE = 5 / 8;
const MIN_OLD_SPACE_MIB = 64;

/**
 * NODE_OPTIONS for an agent whose container may use `memory` (the topic's `scaling.memory`).
 * Without limits V8 sizes its heap from the machine and lets garbage (event bodies, compressed
 * chunks) accumulate far beyond what is live; with them peak memory follows the limit
 * (measured in apps/agent/bench/results.md).
 */
export function agentNodeOptions(memory: string): string {
  const limitMiB = memoryBytes(memory) / 2 ** 20;
  const oldSpace = Math.max(MIN_OLD_SPACE_MIB, Math.floor(limitMiB * OLD_SPACE_SHARE));
  return `--max-semi-space-size=${SEMI_SPACE_MIB} --max-old-space-size=${oldSpace}`;
}
