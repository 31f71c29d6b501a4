import { describe, expect, it } from 'vitest';
import { encodeNdjson, ndjsonLine, newNdjsonStats } from './ndjson.ts';

const ev = (body: unknown, sequenceNumber = 0) => ({
  body,
  sequenceNumber,
  offset: '0',
  enqueuedTimeUtc: new Date(0),
});

describe('NDJSON framing', () => {
  it('writes bodies without line breaks byte for byte', () => {
    const body = Buffer.from('{"id":1,"big":12345678901234567890, "s":"a\\nb"}');
    expect(ndjsonLine(body)).toEqual({ line: body, kind: 'raw' });
    expect(ndjsonLine(Buffer.from('not json at all')).kind).toBe('raw');
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
    expect(ndjsonLine(Buffer.alloc(0))).toEqual({ line: Buffer.from('""'), kind: 'string' });
  });

  it('writes bytes that are not UTF-8 and contain a line break as base64', () => {
    const bytes = Buffer.from([0xff, 0x0a, 0xfe]);
    const { line, kind } = ndjsonLine(bytes);
    expect(kind).toBe('base64');
    expect(Buffer.from(JSON.parse(line.toString()).$base64, 'base64')).toEqual(bytes);
  });

  it('encodes a batch as one line per event and counts rewrites', () => {
    const stats = newNdjsonStats();
    const out = encodeNdjson(
      [ev(Buffer.from('{"a":1}')), ev(Buffer.from('{\n}')), ev('text'), ev({ v: 1 })],
      stats,
    );
    expect(out.toString()).toBe('{"a":1}\n{ }\ntext\n{"v":1}\n');
    expect(stats.rewritten).toEqual({ 'json-whitespace': 1, string: 0, base64: 0 });
  });
});
