import { isUtf8 } from 'node:buffer';
import { once } from 'node:events';
import { Duplex, PassThrough, type Transform } from 'node:stream';
import { deadLetter } from '../../pipeline/dead-letter.ts';
import { bodyBytes, type SourceEvent } from '../../pipeline/event.ts';
import { readJson } from '../../pipeline/json-check.ts';
import { RowError } from '../../pipeline/json-schema.ts';
import type { SegmentContext } from '../format.ts';

/**
 * NDJSON framing: one event per line, and every line valid JSON that every JSON-lines reader accepts
 * (DuckDB `read_json`, pyarrow, Spark). One rule for every body:
 * - JSON that every reader accepts (see readJson: UTF-8, parses, no duplicate key, no unpaired
 *   surrogate escape, at most MAX_NESTING levels) is written byte for byte. A raw CR or LF in it
 *   would split the line (readers split on LF, CR and CRLF); JSON cannot hold one inside a string,
 *   so each is insignificant whitespace and becomes a space (`json-whitespace`): the value and the
 *   byte length are unchanged, numbers keep their exact digits.
 * - anything else (plain text, JSON with a BOM or a duplicate key, an empty body, NUL, binary) is
 *   written as one JSON string holding the UTF-8 text (`string`), or, for bytes that are not UTF-8,
 *   as `{"$base64":"…"}` (`base64`); or, when the topic says `nonJson: "deadLetter"`, goes to the
 *   dead-letter area with its raw bytes and the reason.
 */
export type LineKind = 'raw' | 'json-whitespace' | 'string' | 'base64';

const LF = 0x0a;
const CR = 0x0d;
const SPACE = 0x20;
const EMPTY_BODY = new RowError('not-json', 'body is empty');

function hasLineBreak(bytes: Buffer): boolean {
  return bytes.indexOf(LF) !== -1 || bytes.indexOf(CR) !== -1;
}

/**
 * DuckDB reads a line that is only a number into a number column: an integer beyond 64 bits, or a
 * number beyond the double range, makes it refuse the file, while the same number inside an object
 * or array is read as text.
 */
function readableNumber(body: Buffer, value: number): boolean {
  const text = body.toString('latin1').trim();
  if (!/^-?\d+$/.test(text)) return Number.isFinite(value);
  const n = BigInt(text);
  return n >= -(2n ** 63n) && n < 2n ** 64n;
}

/** The line for one body, without its terminating LF, and why it is not the body itself. */
export function ndjsonLine(body: Buffer): { line: Buffer; kind: LineKind; problem?: RowError } {
  let json = body.byteLength === 0 ? EMPTY_BODY : readJson(body);
  if (!(json instanceof RowError) && typeof json.value === 'number' && !readableNumber(body, json.value)) {
    json = new RowError('number-range', 'a bare number beyond what JSON-lines readers hold');
  }
  if (!(json instanceof RowError)) {
    if (!hasLineBreak(body)) return { line: body, kind: 'raw' };
    const line = Buffer.from(body);
    for (let i = 0; i < line.length; i++) if (line[i] === LF || line[i] === CR) line[i] = SPACE;
    return { line, kind: 'json-whitespace' };
  }
  if (isUtf8(body)) {
    return { line: Buffer.from(JSON.stringify(body.toString('utf8'))), kind: 'string', problem: json };
  }
  return {
    line: Buffer.from(JSON.stringify({ $base64: body.toString('base64') })),
    kind: 'base64',
    problem: json,
  };
}

export interface NdjsonStats {
  rewritten: Record<Exclude<LineKind, 'raw'>, number>;
}

export function newNdjsonStats(): NdjsonStats {
  return { rewritten: { 'json-whitespace': 0, string: 0, base64: 0 } };
}

/** Lines are gathered into pieces of this size: fewer, larger writes to the compressor cost less. */
export const FRAME_BYTES = 1024 * 1024;
const EMPTY = Buffer.alloc(0);

/**
 * One NDJSON file as a stream: object-mode batches of events in, the file's bytes out (compressed by
 * `compressor`, or as they are when it is null). Each body is copied once, into a piece of about
 * FRAME_BYTES; a partial piece waits for the next batch or the end of the file.
 *
 * A compressor has copied a piece's bytes once it calls the piece's write back, so pieces are reused
 * from then on: framing allocates nothing in the steady state. Fresh pieces would be freed only by a
 * garbage collection and count towards the process's memory until then. Uncompressed pieces travel on
 * to the sink and are never reused.
 */
export class NdjsonEncoder extends Duplex {
  readonly #stats: NdjsonStats | undefined;
  readonly #inner: Transform;
  readonly #reuse: boolean;
  readonly #pool: Buffer[] = [];
  #piece: Buffer = EMPTY;
  #used = 0;

  /** Set when bodies that are not JSON go to the dead letters instead of being wrapped. */
  readonly #deadLetters: SegmentContext | undefined;

  constructor(compressor: Transform | null, stats?: NdjsonStats, deadLetters?: SegmentContext) {
    super({ writableObjectMode: true, writableHighWaterMark: 2 });
    this.#stats = stats;
    this.#deadLetters = deadLetters;
    this.#reuse = compressor !== null;
    this.#inner = compressor ?? new PassThrough();
    this.#inner.on('data', (chunk: Buffer) => {
      if (!this.push(chunk)) this.#inner.pause();
    });
    this.#inner.once('end', () => this.push(null));
    this.#inner.once('error', (error) => this.destroy(error));
  }

  override _read(): void {
    this.#inner.resume();
  }

  override _write(events: readonly SourceEvent[], _: BufferEncoding, done: (error?: Error) => void): void {
    let accepted = true;
    const waits: Promise<void>[] = [];
    for (const event of events) {
      const { line, kind, problem } = ndjsonLine(bodyBytes(event.body));
      if (problem && this.#deadLetters) {
        const wait = deadLetter(this.#deadLetters, event, problem);
        if (wait) waits.push(wait);
        continue;
      }
      if (kind !== 'raw' && this.#stats) this.#stats.rewritten[kind]++;
      const size = line.byteLength + 1;
      if (this.#used + size > this.#piece.byteLength) {
        accepted = this.#send() && accepted;
        this.#piece = size <= FRAME_BYTES ? this.#freshPiece() : Buffer.allocUnsafeSlow(size);
      }
      this.#used += line.copy(this.#piece, this.#used);
      this.#piece[this.#used++] = LF;
    }
    const drained = accepted ? Promise.resolve() : once(this.#inner, 'drain').then(() => {});
    Promise.all([drained, ...waits]).then(() => done(), done);
  }

  override _final(done: (error?: Error) => void): void {
    this.#send();
    this.#inner.end();
    done();
  }

  override _destroy(error: Error | null, done: (error?: Error | null) => void): void {
    this.#inner.destroy();
    this.#pool.length = 0;
    done(error);
  }

  #freshPiece(): Buffer {
    return this.#pool.pop() ?? Buffer.allocUnsafeSlow(FRAME_BYTES);
  }

  /** Hands the current piece on; false when the inner stream asks to wait for 'drain'. */
  #send(): boolean {
    const piece = this.#piece;
    const used = this.#used;
    this.#piece = EMPTY;
    this.#used = 0;
    if (used === 0) return true;
    const reusable = this.#reuse && piece.byteLength === FRAME_BYTES;
    return this.#inner.write(piece.subarray(0, used), (error) => {
      if (!error && reusable) this.#pool.push(piece);
    });
  }
}
