import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { describe, expect, it } from 'vitest';
import { decodeBodies } from '../../../test/read-back.ts';
import type { SourceEvent } from '../../pipeline/event.ts';
import { AvroContainerEncoder } from './avro.ts';

const events: SourceEvent[] = Array.from({ length: 40 }, (_, i) => ({
  body: Buffer.from(JSON.stringify({ id: i, pad: 'x'.repeat(i * 7) })),
  sequenceNumber: 1000 + i,
  offset: String(64_000 + i * 100),
  enqueuedTimeUtc: new Date(Date.UTC(2026, 2, 7, 9, 0, i)),
}));

/** One file's bytes, the events delivered in batches of `sizes` (the source decides them, not the file). */
async function encode(sizes: number[]): Promise<Buffer> {
  const batches: SourceEvent[][] = [];
  let at = 0;
  for (const size of sizes) {
    batches.push(events.slice(at, at + size));
    at += size;
  }
  const encoder = new AvroContainerEncoder({ codec: 'deflate', blockBytes: 600 });
  return buffer(Readable.from(batches, { objectMode: true }).pipe(encoder));
}

describe('Avro container files', () => {
  it('are the same bytes for the same events, however the source batched them (a replay rewrites a file identically)', async () => {
    const whole = await encode([40]);
    const single = await encode(Array.from({ length: 40 }, () => 1));
    const uneven = await encode([3, 17, 1, 19]);
    expect(single.equals(whole)).toBe(true);
    expect(uneven.equals(whole)).toBe(true);
    const bodies = await decodeBodies('f.avro', whole);
    expect(bodies).toEqual(events.map((e) => (e.body as Buffer).toString('utf8')));
  });

  it('derive their sync marker from the first event, so files starting elsewhere have others', async () => {
    const marker = (bytes: Buffer) => bytes.subarray(bytes.length - 16);
    const a = await encode([40]);
    const encoder = new AvroContainerEncoder({ codec: 'deflate', blockBytes: 600 });
    const b = await buffer(Readable.from([events.slice(1)], { objectMode: true }).pipe(encoder));
    expect(marker(a).equals(marker(b))).toBe(false);
    // Every block ends with the header's marker.
    expect(a.indexOf(marker(a))).toBeLessThan(a.length - 16);
  });
});
