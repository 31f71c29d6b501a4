import { describe, expect, it } from 'vitest';
import { cpuCores, estimateCost, memoryGiB } from './cost.ts';
import { Settings } from './settings.ts';

const prices = Settings.parse({}).prices;

describe('estimateCost', () => {
  it('parses Kubernetes quantities', () => {
    expect(cpuCores('250m')).toBe(0.25);
    expect(cpuCores('2')).toBe(2);
    expect(memoryGiB('512Mi')).toBe(0.5);
    expect(memoryGiB('2Gi')).toBe(2);
  });

  it('charges Capture per throughput unit (at least one) and agents per reserved capacity', () => {
    const idle = estimateCost(
      { eventsPerSecond: 0, bytesPerSecond: 0 },
      { replicas: 1, cpu: '250m', memory: '512Mi' },
      prices,
    );
    expect(idle.throughputUnits).toBe(1);
    expect(idle.captureMonthly).toBe(73);
    expect(idle.agentsMonthly).toBeCloseTo((0.25 * 0.034 + 0.5 * 0.0045) * 730, 1);
    // 300 GB/day ≈ 3.5 MB/s → 4 TUs.
    const big = estimateCost(
      { eventsPerSecond: 3000, bytesPerSecond: 3.5e6 },
      { replicas: 2, cpu: '1', memory: '1Gi' },
      prices,
    );
    expect(big.throughputUnits).toBe(4);
    expect(big.captureMonthly).toBe(292);
    expect(big.savingMonthly).toBeGreaterThan(200);
  });
});
