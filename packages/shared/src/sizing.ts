import { z } from 'zod';
import { cpuMillicores, memoryBytes } from './agent-runtime.ts';
import { Format } from './topic-config.ts';
import { parseOrThrow } from './validation.ts';

/*
 * How much CPU and memory an agent replica needs, from the measurements in
 * apps/agent/bench/results.md. Every coefficient lives here, so a new benchmark run is one edit.
 */

/**
 * Agent CPU seconds per GB of events (user + system, all threads), flat out, heap as the deployer sets
 * it (results.md, "CPU per GB against the floor", the busier of its two runs). Variants not measured
 * on their own take the figure of their format's measured one: NDJSON without compression the gzip
 * figure, Avro's null codec the deflate one, Parquet's other codecs the zstd one.
 */
const CPU_SECONDS_PER_GB = {
  'ndjson/gzip': 51.3,
  'ndjson/zstd': 54.3,
  avro: 94.5,
  parquet: 57.1,
} as const;

/**
 * Peak resident memory (MiB) when a backlog is drained. NDJSON: 280 MiB while catching up after a
 * 5-minute storage stall at 3× the seed's rate, the highest NDJSON figure measured (results.md, "Memory
 * when storage stalls"); Avro shares NDJSON's heap limits and receive path, and its flat-out peak (226)
 * is below NDJSON's (234), so it takes NDJSON's catch-up figure. Parquet: 404 MiB flat out at 512Mi,
 * which is the drain of a preloaded backlog (414 in a run at twice the machine's load: 81 % of 512Mi,
 * where the memory guard acts only on a reader whose batch waits for storage).
 */
const PEAK_RSS_MIB = { ndjson: 280, avro: 280, parquet: 404 } as const;

/** How far back a topic's peak rate is looked for: a day holds its daily peak. */
export const SIZING_WINDOW_HOURS = 24;
/** The burst a replica must absorb without falling behind: three times the peak rate. */
export const BURST_FACTOR = 3;
/** The topic the defaults are sized for, and the rate that stands in when nothing is measured. */
export const SIZING_POINT_GB_PER_DAY = 300;
export const SIZING_POINT_BYTES_PER_SECOND = (SIZING_POINT_GB_PER_DAY * 1e9) / 86_400;
/**
 * Memory is sized so the drain peak stays under 80 % of the limit: there the agent starts stopping
 * readers of partitions that wait for storage (apps/agent README), so a limit any lower would throttle
 * every catch-up.
 */
const MEMORY_GUARD_SHARE = 0.8;
const MEMORY_STEP_MIB = 64;
const CPU_STEP_MILLICORES = 100;
/**
 * The agent's fixed work (reports, lag reads, timers, collections of its bounded heap) is not measured
 * apart from its traffic; 250m is the least it has been measured at (the former default).
 */
const MIN_CPU_MILLICORES = 250;
/**
 * The pipeline runs mostly on one thread (results.md, "Reading the results"), so a replica makes little
 * use of more than one core: beyond it, partitions are spread over more replicas.
 */
const MAX_CPU_MILLICORES_PER_REPLICA = 1000;
/** `scaling.replicas`' maximum. */
export const MAX_REPLICAS = 32;
/** Far beyond any Event Hubs namespace (a dedicated cluster ingests a few GB/s). */
export const MAX_SIZING_BYTES_PER_SECOND = 1e12;
const MAX_SIZING_EVENTS_PER_SECOND = 1e10;

const rate = (max: number, unit: string) =>
  z
    .number({ error: 'must be a finite number' })
    .min(0, 'must not be negative')
    .max(max, `must be at most ${max.toExponential()} ${unit}`);

/** A topic's measured peak rates (the agents' reports, per-minute averages) over a recent window. */
export const MeasuredRates = z.strictObject({
  peakBytesPerSecond: rate(MAX_SIZING_BYTES_PER_SECOND, 'bytes/s'),
  peakEventsPerSecond: rate(MAX_SIZING_EVENTS_PER_SECOND, 'events/s'),
  /** How far back the peak was looked for. */
  windowHours: z
    .number()
    .int('must be a whole number')
    .min(1, 'must be at least 1')
    .max(720, 'must be at most 720'),
  /** Minutes with at least one report in the window. */
  minutes: z
    .number()
    .int('must be a whole number')
    .min(0, 'must not be negative')
    .max(43_200, 'must be at most 43200'),
});
export type MeasuredRates = z.output<typeof MeasuredRates>;

/** A topic's measured peak rates, or why there are none to size from. */
export interface Measurement {
  /** Null when no agent reported in the window (new topic, paused, crashed, removed) or `problem` is set. */
  rates: MeasuredRates | null;
  /** Why reported rates could not be used. */
  problem: string | null;
}

/**
 * What a recommendation rests on. `measured`: the peak of the agents' reports. Otherwise it is the
 * format's figure at the sizing point: `none` (no report in the window: a new topic, or agents paused,
 * crashed or removed), `idle` (reports, but not one byte: zero is not a rate to size from).
 */
export type SizingBasis = 'measured' | 'none' | 'idle';

export interface ScalingAdvice {
  basis: SizingBasis;
  /** The rate sized for: the measured peak, or the sizing point. */
  bytesPerSecond: number;
  /** The format's CPU seconds per GB (results.md). */
  cpuSecondsPerGB: number;
  /** Cores the topic needs, all replicas together, for a burst of BURST_FACTOR × the rate. */
  cores: number;
  replicas: number;
  /** Per replica, as Kubernetes quantities. */
  cpu: string;
  memory: string;
  /** False when even MAX_REPLICAS replicas of one core do not absorb the burst. */
  sufficient: boolean;
}

type FormatType = Format['type'];

function cpuSecondsPerGB(format: Format): number {
  if (format.type === 'ndjson')
    return CPU_SECONDS_PER_GB[format.compression === 'zstd' ? 'ndjson/zstd' : 'ndjson/gzip'];
  return CPU_SECONDS_PER_GB[format.type];
}

/** The memory a replica of this format needs, from its measured drain peak. */
export function recommendedMemory(type: FormatType): string {
  const mib = PEAK_RSS_MIB[type] / MEMORY_GUARD_SHARE;
  return `${Math.ceil(mib / MEMORY_STEP_MIB) * MEMORY_STEP_MIB}Mi`;
}

/** A CPU quantity the way people write it: "600m", "1", "1500m". */
export function cpuQuantity(millicores: number): string {
  return millicores % 1000 === 0 ? String(millicores / 1000) : `${millicores}m`;
}

/**
 * CPU and memory per replica that absorb a burst of BURST_FACTOR × the topic's measured peak (which
 * also drains a backlog at twice the peak: an hour of it in 30 minutes). Without a measured rate the
 * sizing point (300 GB/day) stands in, and `basis` says so. Throws a ValidationError for a format or a
 * measurement that is not one.
 */
export function recommendScaling(format: unknown, measured: unknown, replicas = 1): ScalingAdvice {
  const fmt = parseOrThrow(Format, format, 'format');
  const rates = measured === null ? null : parseOrThrow(MeasuredRates, measured, 'measured rates');
  const basis: SizingBasis =
    !rates || rates.minutes === 0 ? 'none' : rates.peakBytesPerSecond > 0 ? 'measured' : 'idle';
  const bytesPerSecond =
    basis === 'measured' && rates ? rates.peakBytesPerSecond : SIZING_POINT_BYTES_PER_SECOND;
  const perGB = cpuSecondsPerGB(fmt);
  const cores = (bytesPerSecond * BURST_FACTOR * perGB) / 1e9;
  const needed = Math.min(
    MAX_REPLICAS,
    Math.max(1, Math.trunc(replicas) || 1, Math.ceil((cores * 1000) / MAX_CPU_MILLICORES_PER_REPLICA)),
  );
  const perReplica = Math.ceil((cores * 1000) / needed / CPU_STEP_MILLICORES) * CPU_STEP_MILLICORES;
  return {
    basis,
    bytesPerSecond,
    cpuSecondsPerGB: perGB,
    cores,
    replicas: needed,
    cpu: cpuQuantity(Math.max(MIN_CPU_MILLICORES, Math.min(perReplica, MAX_CPU_MILLICORES_PER_REPLICA))),
    memory: recommendedMemory(fmt.type),
    sufficient: perReplica <= MAX_CPU_MILLICORES_PER_REPLICA,
  };
}

/**
 * Whether `scaling` has at least what `advice` recommends: as much CPU over its replicas (a paused
 * topic's count as one) and the memory in each.
 */
export function meetsAdvice(
  advice: ScalingAdvice,
  scaling: { replicas: number; cpu: string; memory: string },
): boolean {
  const cpu = cpuMillicores(scaling.cpu) * Math.max(1, scaling.replicas);
  let memory = 0;
  try {
    memory = memoryBytes(scaling.memory);
  } catch {
    // A quantity the schema would refuse meets nothing.
  }
  const neededCpu = cpuMillicores(advice.cpu) * advice.replicas;
  return advice.sufficient && cpu >= neededCpu && memory >= memoryBytes(advice.memory);
}
