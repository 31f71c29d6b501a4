import { Duplex, PassThrough, type Transform } from 'node:stream';
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

  constructor(compressor: Transform | null, stats?: NdjsonStats) {
    super({ writableObjectMode: true, writableHighWaterMark: 2 });
    this.#stats = stats;
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
    for (const event of events) {
      const { line, kind } = ndjsonLine(bodyBytes(event.body));
      if (kind !== 'raw' && this.#stats) this.#stats.rewritten[kind]++;
      const size = line.byteLength + 1;
      if (this.#used + size > this.#piece.byteLength) {
        accepted = this.#send() && accepted;
        this.#piece = size <= FRAME_BYTES ? this.#freshPiece() : Buffer.allocUnsafeSlow(size);
      }
      this.#used += line.copy(this.#piece, this.#used);
      this.#piece[this.#used++] = LF;
    }
    if (accepted) done();
    else this.#inner.once('drain', () => done());
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
