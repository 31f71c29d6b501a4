import { isUtf8 } from 'node:buffer';
import { RowError, wellFormed } from './json-schema.ts';

/**
 * Deepest nesting of objects and arrays written as JSON (NDJSON lines, Parquet rows). DuckDB crashes
 * reading 100 000 levels; real events stay far below this; deeper ones are kept another way.
 */
export const MAX_NESTING = 64;

/**
 * JSON that every reader accepts. `JSON.parse` takes more than the readers of the lake do: DuckDB
 * refuses a file with a duplicate key or an unpaired surrogate escape (`"\ud800"`) in any line,
 * and deep nesting overflows the recursive checks of this agent and of some readers. A body passes
 * only if it is UTF-8, parses, nests at most `maxNesting` levels, holds no unpaired surrogate and
 * repeats no key in any object; the reason is named otherwise.
 *
 * Found by differential fuzzing against DuckDB (`scripts/fuzz-parquet.ts`), not by listing cases.
 */
export function readJson(body: Buffer, maxNesting = MAX_NESTING): { value: unknown } | RowError {
  if (!isUtf8(body)) return new RowError('invalid-utf8', 'body is not valid UTF-8');
  const text = body.toString('utf8');
  const shape = jsonShape(text);
  if (shape.depth > maxNesting) {
    return new RowError(
      'too-deep',
      `body nests ${shape.depth} levels deep; at most ${maxNesting} are written`,
    );
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return new RowError('not-json', `body is not JSON: ${(error as Error).message}`);
  }
  // Only \uD800–\uDFFF escapes can produce a lone surrogate (raw UTF-8 cannot): check only then.
  if (/\\u[dD][89a-fA-F]/.test(text) && !wellFormed(value)) {
    return new RowError('invalid-string', 'a string holds an unpaired UTF-16 surrogate escape');
  }
  if (shape.members !== membersInValue(value)) {
    return new RowError('duplicate-key', 'an object has the same key twice');
  }
  return { value };
}

/**
 * Structure of JSON text in one pass with no allocation: how deeply it nests, and how many object
 * members it holds (for text that is not JSON, the counts mean nothing).
 *
 * Duplicate keys: `JSON.parse` keeps the last of two equal keys; DuckDB's reader refuses the whole
 * row (and RFC 8259 leaves the meaning open), so such a body is a dead letter, not a row. Counting
 * the members in the text (strings followed by `:`) and comparing with the members of the parsed
 * value is exact: the counts differ only if two keys of one object were equal.
 */
export interface JsonShape {
  /** Members (`"key":`) of every object. */
  members: number;
  /** Deepest nesting of objects and arrays (a scalar is 0, `{}` is 1). */
  depth: number;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COLON = 0x3a;
const OPEN_OBJECT = 0x7b;
const OPEN_ARRAY = 0x5b;
const CLOSE_OBJECT = 0x7d;
const CLOSE_ARRAY = 0x5d;

export function jsonShape(text: string): JsonShape {
  let members = 0;
  let depth = 0;
  let deepest = 0;
  const length = text.length;
  let i = 0;
  while (i < length) {
    const c = text.charCodeAt(i);
    if (c === OPEN_OBJECT || c === OPEN_ARRAY) {
      if (++depth > deepest) deepest = depth;
    } else if (c === CLOSE_OBJECT || c === CLOSE_ARRAY) {
      depth--;
    } else if (c === QUOTE) {
      // Jump to the closing quote (a native search: strings are most of a body's text).
      let end = text.indexOf('"', i + 1);
      while (end !== -1 && escaped(text, end)) end = text.indexOf('"', end + 1);
      if (end === -1) break;
      i = end + 1;
      let n = text.charCodeAt(i);
      while (n === 0x20 || n === 0x09 || n === 0x0a || n === 0x0d) n = text.charCodeAt(++i);
      if (n === COLON) members++;
      continue;
    }
    i++;
  }
  return { members, depth: deepest };
}

/** Whether the quote at `at` is escaped: an odd number of backslashes before it. */
function escaped(text: string, at: number): boolean {
  let backslashes = 0;
  while (text.charCodeAt(at - 1 - backslashes) === BACKSLASH) backslashes++;
  return backslashes % 2 === 1;
}

/** Members of every object in a parsed JSON value; call only on values no deeper than a known bound. */
export function membersInValue(value: unknown): number {
  if (value === null || typeof value !== 'object') return 0;
  let members = 0;
  if (Array.isArray(value)) {
    for (const item of value) members += membersInValue(item);
    return members;
  }
  for (const key in value as Record<string, unknown>) {
    members += 1 + membersInValue((value as Record<string, unknown>)[key]);
  }
  return members;
}
