import { describe, expect, it } from 'vitest';
import { cpuMillicores, memoryBytes } from './agent-runtime.ts';
import {
  MAX_REPLICAS,
  MAX_SIZING_BYTES_PER_SECOND,
  meetsAdvice,
  recommendScaling,
  SIZING_POINT_BYTES_PER_SECOND,
} from './sizing.ts';
import { Scaling } from './topic-config.ts';
import { ValidationError } from './validation.ts';

const gzip = { type: 'ndjson', compression: 'gzip' };
const FORMATS = [
  gzip,
  { type: 'ndjson', compression: 'zstd' },
  { type: 'ndjson', compression: 'none' },
  { type: 'avro' },
  { type: 'parquet' },
];
const measured = (peakBytesPerSecond: number, minutes = 60) => ({
  peakBytesPerSecond,
  peakEventsPerSecond: 1000,
  windowHours: 24,
  minutes,
});

describe('recommendScaling', () => {
  it('sizes a 3× burst of the measured peak from the format’s CPU seconds per GB', () => {
    // 1.2 MB/s × 3 × 51.3 CPU-s/GB = 0.185 core: the 250m floor.
    expect(recommendScaling(gzip, measured(1.2e6))).toMatchObject({
      basis: 'measured',
      bytesPerSecond: 1.2e6,
      cpuSecondsPerGB: 51.3,
      replicas: 1,
      cpu: '250m',
      memory: '384Mi',
      sufficient: true,
    });
    // 5 MB/s of Avro: 5e6 × 3 × 94.5 / 1e9 = 1.42 cores, more than one replica uses: two of 800m.
    expect(recommendScaling({ type: 'avro' }, measured(5e6))).toMatchObject({ replicas: 2, cpu: '800m' });
    // Parquet drains at 404 MiB: 512Mi keeps that under the memory guard's 80 %.
    expect(recommendScaling({ type: 'parquet' }, measured(2e6))).toMatchObject({
      cpu: '400m',
      memory: '512Mi',
    });
  });

  it('recommends from the format alone, at 300 GB/day, when nothing was measured or only zero', () => {
    for (const rates of [null, measured(0, 0), measured(5e6, 0)]) {
      expect(recommendScaling(gzip, rates)).toMatchObject({
        basis: 'none',
        bytesPerSecond: SIZING_POINT_BYTES_PER_SECOND,
        cpu: '600m',
      });
    }
    // Reports that carried no byte (an idle or stalled agent) are not a rate of zero to size from.
    expect(recommendScaling(gzip, measured(0))).toMatchObject({ basis: 'idle', cpu: '600m' });
    expect(recommendScaling({ type: 'avro' }, null).cpu).toBe('1');
  });

  it('keeps the schema defaults enough for a 3× burst of 300 GB/day in every format', () => {
    const defaults = Scaling.parse({});
    for (const format of FORMATS) {
      const advice = recommendScaling(format, null);
      expect(advice.sufficient).toBe(true);
      expect(cpuMillicores(defaults.cpu)).toBeGreaterThanOrEqual(cpuMillicores(advice.cpu));
      expect(memoryBytes(defaults.memory)).toBeGreaterThanOrEqual(memoryBytes(advice.memory));
      expect(meetsAdvice(advice, defaults)).toBe(true);
    }
    // The former default did not: 250m absorbs about 1.9× for NDJSON.
    expect(meetsAdvice(recommendScaling(gzip, null), { replicas: 1, cpu: '250m', memory: '512Mi' })).toBe(
      false,
    );
  });

  it('spreads what one replica cannot carry over more, and says when 32 are not enough', () => {
    expect(recommendScaling(gzip, measured(50e6), 4)).toMatchObject({
      replicas: 8,
      cpu: '1',
      sufficient: true,
    });
    // A paused topic (0 replicas) is sized for one.
    expect(recommendScaling(gzip, measured(1e6), 0).replicas).toBe(1);
    expect(recommendScaling(gzip, measured(1e6), 3)).toMatchObject({ replicas: 3, cpu: '250m' });
    // The most a topic may run.
    expect(Scaling.safeParse({ replicas: MAX_REPLICAS }).success).toBe(true);
    expect(Scaling.safeParse({ replicas: MAX_REPLICAS + 1 }).success).toBe(false);
    expect(recommendScaling(gzip, measured(MAX_SIZING_BYTES_PER_SECOND))).toMatchObject({
      replicas: 32,
      cpu: '1',
      sufficient: false,
    });
  });

  it('refuses rates that are not rates and formats that do not exist, naming the field', () => {
    const refused = (format: unknown, rates: unknown) => {
      try {
        recommendScaling(format, rates);
      } catch (error) {
        expect(error).toBeInstanceOf(ValidationError);
        return (error as ValidationError).problems;
      }
      throw new Error('accepted');
    };
    expect(refused(gzip, measured(Number.NaN))).toEqual(['peakBytesPerSecond: must be a finite number']);
    expect(refused(gzip, measured(-1))).toEqual(['peakBytesPerSecond: must not be negative']);
    expect(refused(gzip, measured(Number.POSITIVE_INFINITY))).toEqual([
      'peakBytesPerSecond: must be a finite number',
    ]);
    expect(refused(gzip, measured(2 ** 53 + 2))).toEqual([
      'peakBytesPerSecond: must be at most 1e+12 bytes/s',
    ]);
    expect(refused(gzip, { ...measured(1), minutes: 2 ** 31 })).toEqual(['minutes: must be at most 43200']);
    expect(refused(gzip, { ...measured(1), extra: 1 })).toEqual(['extra: is not a known field']);
    expect(refused(gzip, '1 MB/s')).toEqual(['(root): Invalid input: expected object, received string']);
    expect(refused({ type: 'orc' }, null)).toEqual(['type: must be "ndjson", "avro" or "parquet"']);
    expect(refused({ type: 'ndjson', compression: 'lz4' }, null)).toEqual([
      'compression: must be "gzip", "zstd" or "none"',
    ]);
  });
});

describe('CPU quantities', () => {
  it('reads millicores and refuses what is not a quantity', () => {
    expect(cpuMillicores('250m')).toBe(250);
    expect(cpuMillicores('0.5')).toBe(500);
    expect(cpuMillicores('2')).toBe(2000);
    for (const bad of ['', 'lots', '-1', '1e3', '0x10', '\u0000', '\uFEFF1'])
      expect(cpuMillicores(bad)).toBeNaN();
  });
});

describe('meetsAdvice', () => {
  const advice = recommendScaling(gzip, measured(5e6)); // 800m, 384Mi
  it('compares the CPU over all replicas and the memory of each', () => {
    expect(meetsAdvice(advice, { replicas: 1, cpu: '800m', memory: '384Mi' })).toBe(true);
    expect(meetsAdvice(advice, { replicas: 2, cpu: '400m', memory: '1Gi' })).toBe(true);
    expect(meetsAdvice(advice, { replicas: 0, cpu: '1', memory: '512Mi' })).toBe(true);
    expect(meetsAdvice(advice, { replicas: 1, cpu: '700m', memory: '512Mi' })).toBe(false);
    expect(meetsAdvice(advice, { replicas: 1, cpu: '1', memory: '256Mi' })).toBe(false);
    // The 250m floor counts: 0.19 core of need is not met by 200m.
    expect(
      meetsAdvice(recommendScaling(gzip, measured(1.2e6)), { replicas: 1, cpu: '200m', memory: '1Gi' }),
    ).toBe(false);
  });
  it('meets nothing with quantities that are not ones, or advice that is not enough', () => {
    expect(meetsAdvice(advice, { replicas: 1, cpu: 'lots', memory: '1Gi' })).toBe(false);
    expect(meetsAdvice(advice, { replicas: 1, cpu: '2', memory: '\u0000' })).toBe(false);
    const short = recommendScaling(gzip, measured(MAX_SIZING_BYTES_PER_SECOND));
    expect(meetsAdvice(short, { replicas: 32, cpu: '1', memory: '1Gi' })).toBe(false);
  });
});
