/**
 * Generated event bodies for differential tests: JSON text written by hand (so it can hold what
 * `JSON.stringify` never writes: duplicate keys, odd whitespace, escapes, exponents, huge numbers),
 * then sometimes damaged at the byte level. Deterministic for a seed.
 */

/** The same seeded generator as the sample traffic's: a seed gives one sequence of test cases. */
export { createRng as prng } from '@hubcap/local-eventhubs';

const NUMBERS = [
  '0',
  '-0',
  '1',
  '-17',
  '2147483647',
  '2147483648',
  '-2147483649',
  '9007199254740991',
  '9007199254740993',
  '9223372036854775807',
  '9223372036854775808',
  '-9223372036854775808',
  '-9223372036854775809',
  '18446744073709551616',
  '123456789012345678901234567890',
  '1'.repeat(400),
  '0.1',
  '-0.0',
  '1.5e10',
  '1E+2',
  '1e-7',
  '2.5E-3',
  '1e308',
  '1.7976931348623157e308',
  '1e309',
  '-1e400',
  '1e-400',
  '4.9e-324',
  '0.000000000000000000000000000001',
  `0.${'3'.repeat(300)}`,
];

const STRINGS = [
  '',
  'plain',
  'with space',
  'quote " and backslash \\',
  'tab\tnew\nline\rcr',
  'nul\u0000byte',
  'ctl\u0001\u001f',
  'del\u007f',
  'é ü ß 中文 日本語',
  '😀 emoji 👍🏽',
  '\u2028\u2029',
  '\ufeffbom inside',
  'x'.repeat(300),
];

/** Raw string-literal contents (already escaped as they appear in JSON text). */
const RAW_STRING_CONTENTS = [
  '\\ud800',
  '\\udc00',
  'a\\ud83dz',
  '\\ud83d\\ude00',
  '\\u0000',
  '\\u0041\\u00e9',
  '\\/slash',
  '\\b\\f\\n\\r\\t',
  '\\uD834\\uDD1E',
];

const KEYS = [
  'id',
  'name',
  'value',
  'Value',
  'VALUE',
  'a',
  'A',
  '',
  ' ',
  'with space',
  'dot.ted',
  'content-type',
  'x-request-id',
  '_eh_partition',
  '_EH_OFFSET',
  '__proto__',
  'constructor',
  'toString',
  'é',
  '中',
  '😀',
  'nul\u0000key',
  '123',
  '$ref',
  '@type',
  'k'.repeat(200),
];

export interface FuzzOptions {
  maxDepth?: number;
  /** Probability that a generated body is damaged at the byte level afterwards. */
  mutate?: number;
}

/** One generated body. */
export function fuzzBody(rand: () => number, options: FuzzOptions = {}): Buffer<ArrayBufferLike> {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(rand() * items.length)]!;
  const ws = () => (rand() < 0.8 ? '' : pick([' ', '\t', '\n', '\r\n', '  ', '\r']));
  const maxDepth = options.maxDepth ?? 5;

  const string = (): string => {
    const r = rand();
    if (r < 0.15) return `"${pick(RAW_STRING_CONTENTS)}"`;
    return JSON.stringify(pick(STRINGS));
  };
  const key = (): string => (rand() < 0.1 ? `"${pick(RAW_STRING_CONTENTS)}"` : JSON.stringify(pick(KEYS)));
  const value = (depth: number): string => {
    const r = rand();
    if (depth >= maxDepth || r < 0.45) {
      const s = rand();
      if (s < 0.35) return pick(NUMBERS);
      if (s < 0.7) return string();
      return pick(['true', 'false', 'null']);
    }
    if (r < 0.65) {
      const n = Math.floor(rand() * 4);
      const items = Array.from({ length: n }, () => `${ws()}${value(depth + 1)}${ws()}`);
      return `[${items.join(',')}]`;
    }
    return object(depth + 1);
  };
  const object = (depth: number): string => {
    const n = Math.floor(rand() * 5);
    const keys: string[] = [];
    for (let i = 0; i < n; i++) {
      // Sometimes repeat a key already used in this object.
      keys.push(keys.length > 0 && rand() < 0.12 ? pick(keys) : key());
    }
    const members = keys.map((k) => `${ws()}${k}${ws()}:${ws()}${value(depth)}${ws()}`);
    return `{${members.join(',')}}`;
  };

  let text: string;
  const top = rand();
  if (top < 0.85) text = object(0);
  else if (top < 0.9) text = `[${value(1)}]`;
  else text = value(maxDepth);
  if (rand() < 0.05) text = `\ufeff${text}`;
  if (rand() < 0.05) text = `${ws()}${text}${ws()}`;
  let bytes: Buffer<ArrayBufferLike> = Buffer.from(text, 'utf8');
  if (rand() < (options.mutate ?? 0.1)) bytes = mutate(bytes, rand);
  return bytes;
}

/** Deep nesting, a shape the recursive generator never reaches. */
export function nested(depth: number, kind: 'object' | 'array'): Buffer {
  const open = kind === 'object' ? '{"a":' : '[';
  const close = kind === 'object' ? '}' : ']';
  const inner = `${open.repeat(depth)}1${close.repeat(depth)}`;
  return Buffer.from(kind === 'object' ? inner : `{"a":${inner}}`);
}

function mutate(bytes: Buffer, rand: () => number): Buffer<ArrayBufferLike> {
  const out = Buffer.from(bytes);
  const at = Math.floor(rand() * Math.max(1, out.length));
  switch (Math.floor(rand() * 4)) {
    case 0:
      out[at] = Math.floor(rand() * 256);
      return out;
    case 1:
      return Buffer.concat([out.subarray(0, at), Buffer.from([Math.floor(rand() * 256)]), out.subarray(at)]);
    case 2:
      return Buffer.concat([out.subarray(0, at), out.subarray(at + 1)]);
    default:
      return Buffer.concat([out, Buffer.from([0])]);
  }
}
