import { bodyBytes, type SourceEvent } from './event.ts';

/**
 * NDJSON framing: one event per line, the received bytes written as they are.
 *
 * A raw line break inside a body would split one event into two lines (Spark and DuckDB split on
 * LF, CR and CRLF), so bodies containing CR or LF are the only ones rewritten:
 * - valid JSON (e.g. pretty-printed): JSON cannot hold a raw CR/LF inside a string, so every CR/LF
 *   byte is insignificant whitespace; each is replaced by a space. The value is unchanged, numbers
 *   keep their exact digits (no parse/re-serialise), the byte length is unchanged.
 * - anything else (and empty bodies, which readers would skip as blank lines): the body is written
 *   as one JSON string — the UTF-8 text, escaped — or, for bytes that are not valid UTF-8, as a
 *   JSON object `{"$base64":"…"}`. Both are lossless and keep one event per line.
 */
export type LineKind = 'raw' | 'json-whitespace' | 'string' | 'base64';

const LF = 0x0a;
const CR = 0x0d;
const SPACE = 0x20;
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

function hasLineBreak(bytes: Buffer): boolean {
  return bytes.indexOf(LF) !== -1 || bytes.indexOf(CR) !== -1;
}

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

/** The line for one body, without its terminating LF. */
export function ndjsonLine(body: Buffer): { line: Buffer; kind: LineKind } {
  if (body.byteLength > 0 && !hasLineBreak(body)) return { line: body, kind: 'raw' };
  let text: string | null;
  try {
    text = strictUtf8.decode(body);
  } catch {
    text = null;
  }
  if (text === null) {
    return { line: Buffer.from(JSON.stringify({ $base64: body.toString('base64') })), kind: 'base64' };
  }
  if (body.byteLength > 0 && isJson(text)) {
    const line = Buffer.from(body);
    for (let i = 0; i < line.length; i++) if (line[i] === LF || line[i] === CR) line[i] = SPACE;
    return { line, kind: 'json-whitespace' };
  }
  return { line: Buffer.from(JSON.stringify(text)), kind: 'string' };
}

export interface NdjsonStats {
  rewritten: Record<Exclude<LineKind, 'raw'>, number>;
}

export function newNdjsonStats(): NdjsonStats {
  return { rewritten: { 'json-whitespace': 0, string: 0, base64: 0 } };
}

/** Encodes a batch of events as NDJSON lines in one buffer (one copy of each body). */
export function encodeNdjson(events: readonly SourceEvent[], stats?: NdjsonStats): Buffer {
  const lines: Buffer[] = new Array(events.length);
  let total = 0;
  for (let i = 0; i < events.length; i++) {
    const { line, kind } = ndjsonLine(bodyBytes(events[i]!.body));
    if (kind !== 'raw' && stats) stats.rewritten[kind]++;
    lines[i] = line;
    total += line.byteLength + 1;
  }
  const out = Buffer.allocUnsafe(total);
  let at = 0;
  for (const line of lines) {
    at += line.copy(out, at);
    out[at++] = LF;
  }
  return out;
}
