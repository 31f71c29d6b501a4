import { type PathVariable, type TimeBoundary, timeBoundary, timeBucket } from '@hubcap/shared';

const VARIABLE = /\{([A-Za-z]+)\}/g;
const DIGITS: Partial<Record<PathVariable, number>> = { yyyy: 4, MM: 2, dd: 2, HH: 2, mm: 2, ss: 2 };
const escaped = (literal: string) => literal.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** What a path rendered from a template says: its variables' values, and the window its time starts. */
export interface TemplateMatch {
  values: Partial<Record<PathVariable, string>>;
  /** Start of the window (the template's coarsest time boundary) its time variables name. */
  windowStart: number | null;
}

/**
 * The inverse of renderPath for one template: reads a path (the whole of it) back into the values of
 * the variables that made it; null when the path is not one the template renders, or names one
 * variable twice with different values.
 */
export function templateMatcher(template: string): (path: string) => TemplateMatch | null {
  const order: PathVariable[] = [];
  let pattern = '';
  let last = 0;
  for (const match of template.matchAll(VARIABLE)) {
    const name = match[1] as PathVariable;
    pattern += escaped(template.slice(last, match.index));
    last = match.index + match[0].length;
    order.push(name);
    const digits = DIGITS[name];
    pattern += digits ? `(\\d{${digits}})` : '([^/]+)';
  }
  const regex = new RegExp(`^${pattern}${escaped(template.slice(last))}$`);
  const boundary: TimeBoundary = timeBoundary(template);
  return (path) => {
    const m = regex.exec(path);
    if (!m) return null;
    const values: Partial<Record<PathVariable, string>> = {};
    for (const [i, name] of order.entries()) {
      if (values[name] !== undefined && values[name] !== m[i + 1]) return null;
      values[name] = m[i + 1]!;
    }
    const n = (name: PathVariable, otherwise: number) =>
      values[name] === undefined ? otherwise : Number(values[name]);
    const time = Date.UTC(n('yyyy', 1970), n('MM', 1) - 1, n('dd', 1), n('HH', 0));
    return {
      values,
      windowStart: boundary === 'none' || Number.isNaN(time) ? null : timeBucket(boundary, new Date(time)),
    };
  };
}
