/**
 * Parser for the selector filter a receiver link carries, e.g.
 * `amqp.annotation.x-opt-sequence-number > '42'`. Only the single-clause forms the SDK emits are
 * accepted; anything else is a malformed filter.
 */

export type StartPosition =
  | { kind: 'offset'; offset: string; inclusive: boolean }
  | { kind: 'sequence-number'; sequenceNumber: number; inclusive: boolean }
  | { kind: 'enqueued-time'; enqueuedTime: number; inclusive: boolean };

export class FilterError extends Error {
  override name = 'FilterError';
}

const CLAUSE =
  /^\s*amqp\.annotation\.x-opt-(offset|sequence-number|enqueued-time)\s*(>=|>)\s*(?:'([^']*)'|(-?[0-9]+))\s*$/i;
const INTEGER = /^-?[0-9]+$/;

function parseInteger(text: string, what: string): number {
  if (!INTEGER.test(text))
    throw new FilterError(`The ${what} '${text}' in the filter is not a valid number.`);
  const n = Number(text);
  if (!Number.isSafeInteger(n)) throw new FilterError(`The ${what} '${text}' in the filter is out of range.`);
  return n;
}

export function parseSelectorFilter(expression: string): StartPosition {
  const m = CLAUSE.exec(expression);
  if (!m) throw new FilterError(`The filter expression '${expression}' is not supported.`);
  const field = m[1]!.toLowerCase();
  const inclusive = m[2] === '>=';
  const value = m[3] ?? m[4] ?? '';
  if (field === 'offset') {
    if (value === '@latest') return { kind: 'offset', offset: value, inclusive };
    parseInteger(value, 'offset');
    return { kind: 'offset', offset: value, inclusive };
  }
  if (field === 'sequence-number') {
    return { kind: 'sequence-number', sequenceNumber: parseInteger(value, 'sequence number'), inclusive };
  }
  return { kind: 'enqueued-time', enqueuedTime: parseInteger(value, 'enqueued time'), inclusive };
}
