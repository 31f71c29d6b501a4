import type { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { createGunzip, createGzip } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { newSegmentResult } from '../format.ts';
import { FRAME_BYTES, NdjsonEncoder, ndjsonLine, newNdjsonStats } from './ndjson.ts';

/** The chunks as a pipeline's next stream receives them (flowing mode: one chunk per push). */
async function piecesOf(framer: Readable): Promise<Buffer[]> {
  const pieces: Buffer[] = [];
  framer.on('data', (piece: Buffer) => pieces.push(piece));
  await finished(framer);
  return pieces;
}

const ev = (body: unknown, sequenceNumber = 0) => ({
  body,
  sequenceNumber,
  offset: '0',
  enqueuedTimeUtc: new Date(0),
});

describe('NDJSON framing', () => {
  it('writes JSON bodies byte for byte, whatever their type', () => {
    const body = Buffer.from('{"id":1,"big":12345678901234567890, "s":"a\\nb"}');
    expect(ndjsonLine(body)).toEqual({ line: body, kind: 'raw' });
    for (const json of ['[1,2]', '"a string"', '42', 'null', ' {"padded": true} ']) {
      expect(ndjsonLine(Buffer.from(json)).kind).toBe('raw');
    }
  });

  it('writes every other body as a JSON string (text) or {"$base64"} (bytes), naming why', () => {
    const cases: [Buffer, string, string][] = [
      [Buffer.from('not json at all'), '"not json at all"', 'not-json'],
      [Buffer.from('\ufeff{"a":1}'), JSON.stringify('\ufeff{"a":1}'), 'not-json'],
      [Buffer.from('{"a":1,"a":2}'), JSON.stringify('{"a":1,"a":2}'), 'duplicate-key'],
      [Buffer.from('{"s":"\\ud800"}'), JSON.stringify('{"s":"\\ud800"}'), 'invalid-string'],
      [Buffer.from('a\u0000b'), '"a\\u0000b"', 'not-json'],
      [
        Buffer.from(`${'['.repeat(65)}${']'.repeat(65)}`),
        JSON.stringify(`${'['.repeat(65)}${']'.repeat(65)}`),
        'too-deep',
      ],
    ];
    for (const [body, line, why] of cases) {
      const out = ndjsonLine(body);
      expect([out.line.toString(), out.kind, out.problem?.kind]).toEqual([line, 'string', why]);
    }
    // A bare number beyond 64-bit integers or doubles: DuckDB refuses a file with such a line.
    for (const n of [
      '123456789012345678901234567890',
      '1e309',
      '-9223372036854775809',
      '18446744073709551616',
    ]) {
      const out = ndjsonLine(Buffer.from(n));
      expect([out.line.toString(), out.problem?.kind]).toEqual([`"${n}"`, 'number-range']);
    }
    for (const n of ['9223372036854775807', '-42', '1.5e300', '[1e309]'])
      expect(ndjsonLine(Buffer.from(n)).kind).toBe('raw');
    const binary = ndjsonLine(Buffer.from([0xff, 0x00, 0xfe]));
    expect([binary.line.toString(), binary.kind, binary.problem?.kind]).toEqual([
      '{"$base64":"/wD+"}',
      'base64',
      'invalid-utf8',
    ]);
  });

  it('turns the line breaks of pretty-printed JSON into spaces, keeping every digit', () => {
    const pretty = Buffer.from('{\r\n  "id": 12345678901234567890,\n  "s": "x"\n}');
    const { line, kind } = ndjsonLine(pretty);
    expect(kind).toBe('json-whitespace');
    expect(line.toString()).toBe('{    "id": 12345678901234567890,   "s": "x" }');
    expect(line.byteLength).toBe(pretty.byteLength);
    expect(JSON.parse(line.toString())).toEqual(JSON.parse(pretty.toString()));
  });

  it('writes other text with line breaks, and empty bodies, as one JSON string', () => {
    expect(ndjsonLine(Buffer.from('line 1\nline 2')).line.toString()).toBe('"line 1\\nline 2"');
    expect(ndjsonLine(Buffer.alloc(0))).toMatchObject({ line: Buffer.from('""'), kind: 'string' });
  });

  it('writes bytes that are not UTF-8 and contain a line break as base64', () => {
    const bytes = Buffer.from([0xff, 0x0a, 0xfe]);
    const { line, kind } = ndjsonLine(bytes);
    expect(kind).toBe('base64');
    expect(Buffer.from(JSON.parse(line.toString()).$base64, 'base64')).toEqual(bytes);
  });

  it('frames batches as one line per event and counts rewrites', async () => {
    const stats = newNdjsonStats();
    const framer = new NdjsonEncoder(null, stats);
    framer.write([ev(Buffer.from('{"a":1}')), ev(Buffer.from('{\n}'))]);
    framer.end([ev('text'), ev({ v: 1 })]);
    const out = Buffer.concat(await piecesOf(framer));
    expect(out.toString()).toBe('{"a":1}\n{ }\n"text"\n{"v":1}\n');
    expect(stats.rewritten).toEqual({ 'json-whitespace': 1, string: 1, base64: 0 });
  });

  it('sends bodies that are not JSON to the dead letters when the topic says so', async () => {
    const dead: Buffer[] = [];
    const ctx = {
      partitionId: '2',
      deadLetter: (line: Buffer) => void dead.push(line),
      result: newSegmentResult(),
    };
    const framer = new NdjsonEncoder(null, newNdjsonStats(), ctx);
    framer.end([ev(Buffer.from('{"a":1}'), 1), ev(Buffer.from('plain'), 2), ev(Buffer.from([0xff]), 3)]);
    expect(Buffer.concat(await piecesOf(framer)).toString()).toBe('{"a":1}\n');
    const records = dead.map((l) => JSON.parse(l.toString()));
    expect(records.map((r) => [r.sequenceNumber, r.reason, Buffer.from(r.bodyBase64, 'base64')])).toEqual([
      [2, 'not-json', Buffer.from('plain')],
      [3, 'invalid-utf8', Buffer.from([0xff])],
    ]);
    expect(ctx.result).toMatchObject({
      deadLettered: 2,
      deadLetterKinds: { 'not-json': 1, 'invalid-utf8': 1 },
    });
  });

  it('gathers small batches into large pieces and splits at piece boundaries', async () => {
    const body = Buffer.from(`"${'x'.repeat(998)}"`);
    const framer = new NdjsonEncoder(null);
    const batches = 3000; // about 3 MB of lines
    for (let i = 0; i < batches; i++) framer.write([ev(body)]);
    framer.end();
    const pieces = await piecesOf(framer);
    expect(pieces.length).toBe(Math.ceil((batches * 1001) / FRAME_BYTES));
    for (const piece of pieces.slice(0, -1)) expect(piece.byteLength).toBeLessThanOrEqual(FRAME_BYTES);
    const lines = Buffer.concat(pieces).toString().split('\n');
    expect(lines.length).toBe(batches + 1);
    expect(lines.slice(0, -1).every((l) => l === body.toString())).toBe(true);
  });

  it('gives a body larger than a piece a piece of its own', async () => {
    const big = Buffer.alloc(FRAME_BYTES + 10, 'y');
    const framer = new NdjsonEncoder(null);
    framer.end([ev('1'), ev(big), ev('2')]);
    const pieces = await piecesOf(framer);
    expect(pieces.map((p) => p.byteLength)).toEqual([2, FRAME_BYTES + 13, 2]);
  });

  it('reuses pieces only once the compressor has consumed them: every line comes back intact', async () => {
    const encoder = new NdjsonEncoder(createGzip({ level: 1 }));
    const plain = encoder.pipe(createGunzip());
    const read = plain.toArray();
    const lines = Array.from({ length: 20_000 }, (_, i) => `{"n":${i},"pad":"${'p'.repeat(i % 500)}"}`);
    // Batches of varied sizes, with pauses, so pieces are refilled while earlier ones are compressed.
    for (let i = 0; i < lines.length; i += 37) {
      if (!encoder.write(lines.slice(i, i + 37).map((l) => ev(Buffer.from(l))))) {
        await new Promise((resolve) => encoder.once('drain', resolve));
      }
    }
    encoder.end();
    const text = Buffer.concat(await read).toString();
    expect(text.split('\n').slice(0, -1)).toEqual(lines);
  });
});
