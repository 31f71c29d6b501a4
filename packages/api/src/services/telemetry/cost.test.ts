import { describe, expect, it } from 'vitest';
import { Settings } from '../accounts/settings.ts';
import { type CostTopic, costOverview, cpuCores, memoryGiB } from './cost.ts';

const prices = Settings.parse({}).prices;
const topic = (name: string, over: Partial<CostTopic> = {}): CostTopic => ({
  name,
  namespace: 'ns-a.servicebus.windows.net',
  eventHub: name,
  eventsPerSecond: 0,
  bytesPerSecond: 0,
  scaling: { replicas: 1, cpu: '250m', memory: '512Mi' },
  ...over,
});

describe('costOverview', () => {
  it('parses Kubernetes quantities', () => {
    expect(cpuCores('250m')).toBe(0.25);
    expect(cpuCores('2')).toBe(2);
    expect(memoryGiB('512Mi')).toBe(0.5);
    expect(memoryGiB('2Gi')).toBe(2);
  });

  it('charges Capture per throughput unit of a namespace, not per topic, and agents per reserved capacity', () => {
    const cost = costOverview([topic('orders'), topic('clicks')], prices, {});
    expect(cost.namespaces).toHaveLength(1);
    expect(cost.namespaces[0]).toMatchObject({
      namespace: 'ns-a.servicebus.windows.net',
      topics: ['clicks', 'orders'],
      throughputUnits: 1,
      throughputUnitsFrom: 'traffic',
      captureMonthly: 73,
    });
    expect(cost.agentsMonthly).toBeCloseTo(2 * (0.25 * 0.034 + 0.5 * 0.0045) * 730, 1);
    expect(cost.captureMonthly).toBe(73);
    expect(cost.assumptions).toMatchObject({ captureTuHour: 0.1, vcpuHour: 0.034, hoursPerMonth: 730 });
  });

  it('sizes TUs from the ingress of all hubs of a namespace, counting a hub read by two topics once', () => {
    // 300 GB/day ≈ 3.5 MB/s on one hub, read by two topics; 1.2 MB/s on another: 5 TUs.
    const cost = costOverview(
      [
        topic('big-a', { eventHub: 'big', eventsPerSecond: 3000, bytesPerSecond: 3.5e6 }),
        topic('big-b', { eventHub: 'big', eventsPerSecond: 3000, bytesPerSecond: 3.5e6 }),
        topic('small', { eventsPerSecond: 200, bytesPerSecond: 1.2e6 }),
        topic('other', {
          namespace: 'ns-b.servicebus.windows.net',
          scaling: { replicas: 0, cpu: '1', memory: '1Gi' },
        }),
      ],
      prices,
      {},
    );
    expect(cost.namespaces.map((n) => [n.namespace, n.throughputUnits, n.captureMonthly])).toEqual([
      ['ns-a.servicebus.windows.net', 5, 365],
      ['ns-b.servicebus.windows.net', 1, 73],
    ]);
    expect(cost.namespaces[1]!.agentsMonthly).toBe(0);
  });

  it('uses the TUs an admin set for a namespace', () => {
    const cost = costOverview([topic('orders', { eventsPerSecond: 5000 })], prices, {
      'ns-a.servicebus.windows.net': 20,
    });
    expect(cost.namespaces[0]).toMatchObject({
      throughputUnits: 20,
      throughputUnitsFrom: 'setting',
      captureMonthly: 1460,
    });
  });
});
