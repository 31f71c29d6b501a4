import { cpuMillicores } from '@hubcap/shared';
import type { Settings } from '../accounts/settings.ts';

const HOURS_PER_MONTH = 730;

/** CPU quantity ("250m", "0.5", "2") in cores. */
export function cpuCores(quantity: string): number {
  return cpuMillicores(quantity) / 1000;
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

/** What one replica reserves, per month. */
export function agentMonthly(
  scaling: { replicas: number; cpu: string; memory: string },
  prices: Settings['prices'],
): number {
  return (
    scaling.replicas *
    (cpuCores(scaling.cpu) * prices.vcpuHour + memoryGiB(scaling.memory) * prices.gibHour) *
    HOURS_PER_MONTH
  );
}

export interface CostTopic {
  name: string;
  namespace: string;
  eventHub: string;
  /** Ingress of its event hub, averaged over the last hour (as its agents wrote it). */
  eventsPerSecond: number;
  bytesPerSecond: number;
  /** Agents that run now (0 replicas while paused). */
  scaling: { replicas: number; cpu: string; memory: string };
}

export interface NamespaceCost {
  namespace: string;
  topics: string[];
  eventsPerSecond: number;
  megabytesPerSecond: number;
  throughputUnits: number;
  /** `setting`: an admin set the namespace's TUs; `traffic`: the least that carries its measured ingress. */
  throughputUnitsFrom: 'setting' | 'traffic';
  captureMonthly: number;
  agentsMonthly: number;
}

export interface CostOverview {
  namespaces: NamespaceCost[];
  captureMonthly: number;
  agentsMonthly: number;
  savingMonthly: number;
  /** The figures' assumptions, shown beside them. */
  assumptions: Settings['prices'] & { hoursPerMonth: number; ingress: string };
}

const round = (n: number) => Math.round(n * 100) / 100;

/**
 * Capture is billed per throughput unit of a namespace, whatever number of hubs it captures: the
 * namespace needs enough TUs for the ingress of all its hubs (events/s or MB/s, whichever needs more,
 * at least one), unless an admin set its TUs. Agents bill as the node capacity they reserve. Only
 * deployed topics count; two topics reading one hub (different consumer groups) count its ingress once.
 */
export function costOverview(
  topics: CostTopic[],
  prices: Settings['prices'],
  setThroughputUnits: Record<string, number>,
): CostOverview {
  const byNamespace = new Map<string, CostTopic[]>();
  for (const t of topics) byNamespace.set(t.namespace, [...(byNamespace.get(t.namespace) ?? []), t]);
  const namespaces = [...byNamespace].map(([namespace, members]): NamespaceCost => {
    const hubs = new Map<string, { events: number; bytes: number }>();
    for (const t of members) {
      const hub = hubs.get(t.eventHub) ?? { events: 0, bytes: 0 };
      hubs.set(t.eventHub, {
        events: Math.max(hub.events, t.eventsPerSecond),
        bytes: Math.max(hub.bytes, t.bytesPerSecond),
      });
    }
    const eventsPerSecond = [...hubs.values()].reduce((a, h) => a + h.events, 0);
    const bytesPerSecond = [...hubs.values()].reduce((a, h) => a + h.bytes, 0);
    const set = setThroughputUnits[namespace];
    const throughputUnits =
      set ??
      Math.max(
        1,
        Math.ceil(eventsPerSecond / prices.tuEventsPerSecond),
        Math.ceil(bytesPerSecond / 1e6 / prices.tuMegabytesPerSecond),
      );
    return {
      namespace,
      topics: members.map((t) => t.name).sort(),
      eventsPerSecond: round(eventsPerSecond),
      megabytesPerSecond: round(bytesPerSecond / 1e6),
      throughputUnits,
      throughputUnitsFrom: set === undefined ? 'traffic' : 'setting',
      captureMonthly: round(throughputUnits * prices.captureTuHour * HOURS_PER_MONTH),
      agentsMonthly: round(members.reduce((a, t) => a + agentMonthly(t.scaling, prices), 0)),
    };
  });
  namespaces.sort((a, b) => a.namespace.localeCompare(b.namespace));
  const captureMonthly = round(namespaces.reduce((a, n) => a + n.captureMonthly, 0));
  const agentsMonthly = round(namespaces.reduce((a, n) => a + n.agentsMonthly, 0));
  return {
    namespaces,
    captureMonthly,
    agentsMonthly,
    savingMonthly: round(captureMonthly - agentsMonthly),
    assumptions: {
      ...prices,
      hoursPerMonth: HOURS_PER_MONTH,
      ingress: 'events and bytes the agents wrote in the last hour, per event hub',
    },
  };
}
