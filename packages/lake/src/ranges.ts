import type { SequenceRange } from '@hubcap/shared';
import type { Problem } from './verify.ts';

export const span = (r: SequenceRange) => r.lastSequence - r.firstSequence + 1;
export const range = (firstSequence: number, lastSequence: number): SequenceRange => ({
  firstSequence,
  lastSequence,
});

export interface Unit extends SequenceRange {
  path: string;
  /** A dead-letter file: it shares its segment's range with the segment's data file. */
  deadLetter?: boolean;
}

/**
 * Ranges sorted; a dead-letter file with the same range as another file of it is one unit with it.
 * Two data files of one range stay two, so the overlap is named (e.g. one per format after a change).
 */
export function merge(ranges: readonly Unit[]): Unit[] {
  const seen = new Set<string>();
  return [...ranges]
    .sort(
      (a, b) =>
        a.firstSequence - b.firstSequence ||
        a.lastSequence - b.lastSequence ||
        Number(a.deadLetter ?? false) - Number(b.deadLetter ?? false),
    )
    .filter((r) => {
      const key = `${r.firstSequence}-${r.lastSequence}`;
      if (r.deadLetter && seen.has(key)) return false;
      seen.add(key);
      return true;
    });
}

export function overlaps(units: readonly Unit[]): Problem[] {
  const problems: Problem[] = [];
  for (let i = 1; i < units.length; i++) {
    const [a, b] = [units[i - 1]!, units[i]!];
    if (b.firstSequence <= a.lastSequence)
      problems.push({
        kind: 'overlap',
        ranges: [range(b.firstSequence, Math.min(a.lastSequence, b.lastSequence))],
        message: `${a.path} and ${b.path} both hold ${show([range(b.firstSequence, Math.min(a.lastSequence, b.lastSequence))])}`,
      });
  }
  return problems;
}

export function gaps(units: readonly Unit[]): SequenceRange[] {
  const holes: SequenceRange[] = [];
  for (let i = 1; i < units.length; i++) {
    const end = Math.max(...units.slice(0, i).map((u) => u.lastSequence));
    if (units[i]!.firstSequence > end + 1) holes.push(range(end + 1, units[i]!.firstSequence - 1));
  }
  return holes;
}

export const show = (ranges: readonly SequenceRange[]) =>
  ranges
    .map((r) => (span(r) === 1 ? `${r.firstSequence}` : `${r.firstSequence}–${r.lastSequence} (${span(r)})`))
    .join(', ');
