import type { Settings } from './settings.ts';

const HOURS_PER_MONTH = 730;

/** CPU quantity ("250m", "0.5", "2") in cores. */
export function cpuCores(quantity: string): number {
  return quantity.endsWith('m') ? Number(quantity.slice(0, -1)) / 1000 : Number(quantity);
}

const MEMORY_UNITS: Record<string, number> = {
  '': 1 / 1024 ** 3,
  k: 1000 / 1024 ** 3,
  M: 1e6 / 1024 ** 3,
  G: 1e9 / 1024 ** 3,
  T: 1e12 / 1024 ** 3,
  Ki: 1 / 1024 ** 2,
  Mi: 1 / 1024,
  Gi: 1,
  Ti: 1024,
};

/** Memory quantity ("512Mi", "1Gi") in GiB. */
export function memoryGiB(quantity: string): number {
  const match = /^(\d+)([KMGT]i|[kMGT])?$/.exec(quantity);
  if (!match) return 0;
  return Number(match[1]) * (MEMORY_UNITS[match[2] ?? ''] ?? 0);
}

export interface CostEstimate {
  /** Event Hubs Capture for the same traffic, per month. */
  captureMonthly: number;
  throughputUnits: number;
  /** The topic's agents (replicas × requested CPU and memory), per month. */
  agentsMonthly: number;
  savingMonthly: number;
}

/**
 * Capture bills per throughput unit-hour; the TUs a topic needs follow its ingress (events/s and
 * MB/s, whichever needs more, at least one). Agents bill as the node capacity they reserve.
 */
export function estimateCost(
  traffic: { eventsPerSecond: number; bytesPerSecond: number },
  scaling: { replicas: number; cpu: string; memory: string } | null,
  prices: Settings['prices'],
): CostEstimate {
  const throughputUnits = Math.max(
    1,
    Math.ceil(traffic.eventsPerSecond / prices.tuEventsPerSecond),
    Math.ceil(traffic.bytesPerSecond / 1e6 / prices.tuMegabytesPerSecond),
  );
  const captureMonthly = throughputUnits * prices.captureTuHour * HOURS_PER_MONTH;
  const agentsMonthly = scaling
    ? scaling.replicas *
      (cpuCores(scaling.cpu) * prices.vcpuHour + memoryGiB(scaling.memory) * prices.gibHour) *
      HOURS_PER_MONTH
    : 0;
  const round = (n: number) => Math.round(n * 100) / 100;
  return {
    captureMonthly: round(captureMonthly),
    throughputUnits,
    agentsMonthly: round(agentsMonthly),
    savingMonthly: round(captureMonthly - agentsMonthly),
  };
}
