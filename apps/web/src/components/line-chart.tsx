/** A small inline SVG line chart: one series, min/max labels, time range along the bottom. */
export function LineChart({
  points,
  label,
  format,
  color = '#0f172a',
  testId,
}: {
  points: { t: string; v: number }[];
  label: string;
  format: (v: number) => string;
  color?: string;
  testId?: string;
}) {
  const width = 520;
  const height = 140;
  const pad = { left: 4, right: 4, top: 10, bottom: 18 };
  if (points.length === 0) {
    return (
      <figure data-testid={testId} data-points={0}>
        <figcaption className="text-sm font-medium">{label}</figcaption>
        <div className="flex h-[140px] items-center justify-center rounded bg-slate-50 text-sm text-slate-400">
          no data yet
        </div>
      </figure>
    );
  }
  const times = points.map((p) => new Date(p.t).getTime());
  const t0 = Math.min(...times);
  const t1 = Math.max(...times, t0 + 1);
  const max = Math.max(...points.map((p) => p.v), 1e-9);
  const x = (t: number) => pad.left + ((t - t0) / (t1 - t0)) * (width - pad.left - pad.right);
  const y = (v: number) => pad.top + (1 - v / max) * (height - pad.top - pad.bottom);
  const path = points
    .map((p, i) => `${i ? 'L' : 'M'}${x(times[i]!).toFixed(1)},${y(p.v).toFixed(1)}`)
    .join(' ');
  const last = points[points.length - 1]!;
  return (
    <figure data-testid={testId} data-points={points.length} data-last={last.v}>
      <figcaption className="flex justify-between text-sm">
        <span className="font-medium">{label}</span>
        <span className="tabular-nums text-slate-500">now {format(last.v)}</span>
      </figcaption>
      <svg viewBox={`0 0 ${width} ${height}`} className="mt-1 w-full" role="img" aria-label={label}>
        <line x1={pad.left} x2={width - pad.right} y1={y(0)} y2={y(0)} stroke="#e2e8f0" />
        <line x1={pad.left} x2={width - pad.right} y1={y(max)} y2={y(max)} stroke="#f1f5f9" />
        <path d={path} fill="none" stroke={color} strokeWidth={1.8} />
        {points.length === 1 && <circle cx={x(times[0]!)} cy={y(last.v)} r={3} fill={color} />}
        <text x={pad.left + 2} y={pad.top + 8} fontSize={10} fill="#64748b">
          {format(max)}
        </text>
        <text x={pad.left} y={height - 4} fontSize={10} fill="#64748b">
          {new Date(t0).toISOString().slice(11, 16)}
        </text>
        <text x={width - pad.right} y={height - 4} fontSize={10} fill="#64748b" textAnchor="end">
          {new Date(t1).toISOString().slice(11, 16)} UTC
        </text>
      </svg>
    </figure>
  );
}
