/**
 * Blob path templates. Time variables come from an event's enqueued time (UTC), never the wall clock.
 *
 * Year, month, day and hour variables are partition boundaries: a file never spans two values of them.
 * Minute and second variables name the segment's first event, as Event Hubs Capture names its window,
 * so that a `{ss}` in the template does not force one file per second. A last segment `{ss}` starts
 * the file name instead of making a folder, as Capture's layout does (see splitTemplate).
 */

export const PATH_VARIABLES = {
  namespace: 'Event Hubs namespace name (first label of the fully-qualified namespace)',
  hub: 'Event hub name',
  topic: 'Hubcap topic name',
  partition: 'Partition id',
  yyyy: 'Year, 4 digits',
  MM: 'Month, 2 digits',
  dd: 'Day of month, 2 digits',
  HH: 'Hour (00–23)',
  mm: 'Minute, 2 digits',
  ss: 'Second, 2 digits',
} as const;

export type PathVariable = keyof typeof PATH_VARIABLES;

export const PATH_PRESETS = {
  capture: '{namespace}/{hub}/{partition}/{yyyy}/{MM}/{dd}/{HH}/{mm}/{ss}',
  hive: 'topic={topic}/date={yyyy}-{MM}-{dd}/hour={HH}',
} as const;

/** Granularity of the time boundary a file must not cross. */
export type TimeBoundary = 'none' | 'year' | 'month' | 'day' | 'hour';

const VARIABLE = /\{([^{}]*)\}/g;
const SAFE_LITERAL = /^[A-Za-z0-9=._\-/]*$/;

/** Problems with a template, in plain words; empty when it is usable. */
export function templateProblems(template: string): string[] {
  const problems: string[] = [];
  if (template.startsWith('/') || template.endsWith('/')) problems.push('must not start or end with "/"');
  if (template.includes('//')) problems.push('must not contain empty path segments ("//")');
  if (template.split('/').some((segment) => segment === '.' || segment === '..'))
    problems.push('must not contain "." or ".." path segments');
  for (const [, name] of template.matchAll(VARIABLE)) {
    if (!(name! in PATH_VARIABLES)) {
      problems.push(
        `unknown variable {${name}}; use one of ${Object.keys(PATH_VARIABLES)
          .map((v) => `{${v}}`)
          .join(', ')}`,
      );
    }
  }
  const literal = template.replace(VARIABLE, '');
  if (/[{}]/.test(literal)) problems.push('has an unmatched "{" or "}"');
  else if (!SAFE_LITERAL.test(literal))
    problems.push('may contain only letters, digits, "=", ".", "_", "-" and "/" outside variables');
  return problems;
}

export function timeBoundary(template: string): TimeBoundary {
  if (template.includes('{HH}')) return 'hour';
  if (template.includes('{dd}')) return 'day';
  if (template.includes('{MM}')) return 'month';
  if (template.includes('{yyyy}')) return 'year';
  return 'none';
}

/** Start of the time bucket `time` falls in, in epoch milliseconds; equal keys mean the same folder. */
export function timeBucket(boundary: TimeBoundary, time: Date): number {
  const t = time;
  switch (boundary) {
    case 'none':
      return 0;
    case 'year':
      return Date.UTC(t.getUTCFullYear(), 0);
    case 'month':
      return Date.UTC(t.getUTCFullYear(), t.getUTCMonth());
    case 'day':
      return Date.UTC(t.getUTCFullYear(), t.getUTCMonth(), t.getUTCDate());
    case 'hour':
      return Date.UTC(t.getUTCFullYear(), t.getUTCMonth(), t.getUTCDate(), t.getUTCHours());
  }
}

export interface PathContext {
  namespace: string;
  hub: string;
  topic: string;
  partition: string;
  /** Enqueued time of the segment's first event. */
  time: Date;
}

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

export function renderPath(template: string, ctx: PathContext): string {
  const t = ctx.time;
  const values: Record<PathVariable, string> = {
    namespace: ctx.namespace,
    hub: ctx.hub,
    topic: ctx.topic,
    partition: ctx.partition,
    yyyy: pad(t.getUTCFullYear(), 4),
    MM: pad(t.getUTCMonth() + 1),
    dd: pad(t.getUTCDate()),
    HH: pad(t.getUTCHours()),
    mm: pad(t.getUTCMinutes()),
    ss: pad(t.getUTCSeconds()),
  };
  return template.replace(VARIABLE, (_, name: string) => values[name as PathVariable]);
}

/**
 * Why a blob or file name relative to a destination could escape it, or null when it cannot: no empty,
 * "." or ".." segment, no leading "/" or "\\", no drive letter, no NUL. Schemas refuse such templates and
 * prefixes; sinks check the final name again, since variables are filled in from event metadata.
 */
export function unsafePathProblem(path: string): string | null {
  if (path === '') return 'is empty';
  if (path.includes('\0')) return 'contains a NUL character';
  if (/^[/\\]|^[A-Za-z]:/.test(path)) return 'is absolute';
  const segments = path.split(/[/\\]/);
  if (segments.some((segment) => segment === '')) return 'has an empty path segment';
  if (segments.some((segment) => segment === '.' || segment === '..'))
    return 'has a "." or ".." path segment';
  return null;
}

/** `myns.servicebus.windows.net` → `myns`; `127.0.0.1:5672` → `127.0.0.1`. */
export function namespaceName(fullyQualifiedNamespace: string): string {
  const host = fullyQualifiedNamespace.replace(/:\d+$/, '');
  return /^\d+(\.\d+){3}$/.test(host) ? host : (host.split('.')[0] ?? host);
}

/**
 * Where a template puts a file. Event Hubs Capture names each file by its second
 * (`…/{Minute}/{Second}.avro`), so a template whose last segment is `{ss}` names the file rather than
 * a folder: the file sits at Capture's depth and its name starts with the second. Any other template
 * is a folder.
 */
export function splitTemplate(template: string): { folder: string; fileStart: string | null } {
  const FILE_START = '{ss}';
  if (template === FILE_START) return { folder: '', fileStart: FILE_START };
  if (template.endsWith(`/${FILE_START}`)) {
    return { folder: template.slice(0, -FILE_START.length - 1), fileStart: FILE_START };
  }
  return { folder: template, fileStart: null };
}

/**
 * File name of a segment: an optional start (Capture's second, see splitTemplate), the partition,
 * then first and last sequence numbers, zero-padded so names sort in event order. A replay from a
 * checkpoint starts at the same first sequence number and reuses it.
 */
export function segmentFileName(
  partition: string,
  firstSequence: number,
  lastSequence: number,
  extension: string,
  start = '',
) {
  return `${start ? `${start}-` : ''}${partition}-${pad(firstSequence, 20)}-${pad(lastSequence, 20)}${extension}`;
}

/** Inverse of segmentFileName; null for names it did not produce. Partition ids hold no `-`. */
export function parseSegmentFileName(name: string) {
  const match = /^(?:(\d{2})-)?([^-]+)-(\d{20})-(\d{20})(\..+)$/.exec(name);
  if (!match) return null;
  return {
    start: match[1] ?? '',
    partition: match[2]!,
    firstSequence: Number(match[3]),
    lastSequence: Number(match[4]),
    extension: match[5]!,
  };
}
