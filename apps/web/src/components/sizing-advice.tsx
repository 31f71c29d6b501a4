'use client';

import {
  BURST_FACTOR,
  MAX_REPLICAS,
  type Measurement,
  meetsAdvice,
  type ScalingAdvice,
  SIZING_POINT_GB_PER_DAY,
  SIZING_WINDOW_HOURS,
} from '@hubcap/shared';
import { formatBytes, formatNumber } from './format.ts';
import { Badge, Button } from './ui.tsx';

type Scaling = { replicas: number; cpu: string; memory: string };

/** Where the rate came from, in words: the measured peak, or why the format alone speaks. */
function basisLine(advice: ScalingAdvice, measurement: Measurement) {
  const rate = `${formatBytes(advice.bytesPerSecond)}/s`;
  const need = `→ ${formatNumber(advice.cores, 2)} core for a ${BURST_FACTOR}× burst at ${advice.cpuSecondsPerGB} CPU-s/GB`;
  const rates = measurement.rates;
  if (advice.basis === 'measured' && rates)
    return `Peak ${rate} (${formatNumber(rates.peakEventsPerSecond)} events/s) over the last ${rates.windowHours} h ${need}.`;
  const why =
    measurement.problem ??
    (advice.basis === 'idle'
      ? `The agents reported no bytes in the last ${SIZING_WINDOW_HOURS} h, and zero is no rate to size from.`
      : `No measured rate yet: no whole minute of agent reports in the last ${SIZING_WINDOW_HOURS} h.`);
  return `${why} From the format alone, for a ${SIZING_POINT_GB_PER_DAY} GB/day topic (${rate}) ${need}.`;
}

/**
 * The CPU and memory a topic's agents need, with the figures it came from and what the topic has;
 * `onApply` (the form) offers to take it.
 */
export function SizingAdvice({
  advice,
  measurement,
  scaling,
  onApply,
}: {
  advice: ScalingAdvice;
  measurement: Measurement;
  scaling: Scaling;
  onApply?: () => void;
}) {
  const enough = meetsAdvice(advice, scaling);
  const replicas = advice.replicas > Math.max(1, scaling.replicas) ? ` on ${advice.replicas} replicas` : '';
  return (
    <div className="space-y-1 text-sm" data-testid="sizing-advice" data-basis={advice.basis}>
      <p className="text-slate-600">{basisLine(advice, measurement)}</p>
      <p>
        Recommended: <strong data-testid="recommended-cpu">{advice.cpu}</strong> CPU and{' '}
        <strong data-testid="recommended-memory">{advice.memory}</strong> memory per replica{replicas}
        {!advice.sufficient &&
          `: still short, even ${MAX_REPLICAS} replicas of one core do not absorb the burst`}
        . You have {scaling.cpu} and {scaling.memory}
        {scaling.replicas === 1 ? '' : ` on ${scaling.replicas} replicas`}.{' '}
        <Badge tone={enough ? 'ok' : 'warn'}>{enough ? 'enough' : 'below'}</Badge>
      </p>
      {onApply && (
        <Button variant="secondary" onClick={onApply}>
          Apply recommendation
        </Button>
      )}
    </div>
  );
}
