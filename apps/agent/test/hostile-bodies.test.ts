import { createReadStream } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { createGunzip } from 'node:zlib';
import { EventHubProducerClient } from '@azure/event-hubs';
import { startLocalEventHubs } from '@hubcap/local-eventhubs';
import type { Format } from '@hubcap/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DeadLetterRecord } from '../src/pipeline/dead-letter.ts';
import { startAgent } from './harness.ts';
import { nested } from './json-fuzz.ts';
import { decodeAvroWithApacheReader, readJsonLines, readParquet } from './read-back.ts';

/** Bodies that break readers and writers, from the house list of hostile inputs. */
const HOSTILE: Buffer[] = [
  Buffer.from('{"a":1,"a":2}'), // duplicate keys
  Buffer.from('{"o":{"k":1,"k":[]}}'),
  nested(100, 'object'), // deep nesting
  nested(5000, 'array'),
  Buffer.from('{"n":1e400}'), // huge numbers
  Buffer.from('{"n":123456789012345678901234567890}'),
  Buffer.from('{"n":-9223372036854775809}'),
  Buffer.from('{"s":"\\ud800"}'), // lone surrogates
  Buffer.from('{"s":"\\udc00x"}'),
  Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d]), // invalid UTF-8
  Buffer.from('\ufeff{"bom":true}'), // BOM
  Buffer.from('{"a":"x"}\u0000'), // NUL
  Buffer.from('{"nul\\u0000key":1}'),
  Buffer.from('text with a NUL \u0000 inside'),
  Buffer.from(Array.from({ length: 256 }, (_, i) => (i * 37) % 256)), // binary
  Buffer.alloc(0), // empty
  Buffer.from(`{"big":"${'x'.repeat(1_000_000)}"}`), // 1 MB
  Buffer.from('plain text, no JSON at all'),
  Buffer.from('42'),
  Buffer.from('123456789012345678901234567890'), // bare numbers beyond what readers hold
  Buffer.from('-1e400'),
  Buffer.from(JSON.stringify(Object.fromEntries(Array.from({ length: 4000 }, (_, i) => [`k${i}`, i])))), // wide
  Buffer.from('"a JSON string"'),
  Buffer.from('[1,2,3]'),
  Buffer.from('{\r\n  "pretty": true\r\n}'),
];
const CLEAN_EVERY = 3;
const bodies: Buffer[] = [];
for (const [i, body] of HOSTILE.entries()) {
  for (let k = 0; k < CLEAN_EVERY; k++)
    bodies.push(Buffer.from(`{"id":${i * CLEAN_EVERY + k},"clean":true}`));
  bodies.push(body);
}
/** Typed application properties on one event: AMQP binary, timestamp, long, double, boolean, string. */
const TYPED = {
  bin: Buffer.from([1, 2, 255]),
  at: new Date('2026-03-07T09:05:02.123Z'),
  count: 2 ** 40,
  ratio: 0.25,
  flag: true,
  name: 'n',
};
const TYPED_INDEX = 1;

let eh: Awaited<ReturnType<typeof startLocalEventHubs>>;
const FORMATS: { group: string; format: Format }[] = [
  { group: 'ndjson', format: { type: 'ndjson', compression: 'gzip' } },
  { group: 'avro', format: { type: 'avro', codec: 'deflate' } },
  { group: 'parquet', format: { type: 'parquet', compression: 'zstd' } },
];

beforeAll(async () => {
  eh = await startLocalEventHubs({
    hubs: [{ name: 'hostile', partitionCount: 1, consumerGroups: FORMATS.map((f) => f.group) }],
    port: 0,
  });
  const producer = new EventHubProducerClient(eh.connectionString('hostile'), 'hostile');
  try {
    // One event per send: the 1 MB body fills a batch on its own.
    for (const [i, body] of bodies.entries()) {
      await producer.sendBatch([{ body, ...(i === TYPED_INDEX ? { properties: TYPED } : {}) }], {
        partitionId: '0',
      });
    }
  } finally {
    await producer.close();
  }
});
afterAll(async () => {
  await eh?.close();
});

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile() && !e.parentPath.includes('.hubcap'))
    .map((e) => join(e.parentPath, e.name))
    .sort();
}

/** Lines of a gzip NDJSON file, read as a stream by a plain line reader. */
async function streamedLines(path: string): Promise<string[]> {
  const lines: string[] = [];
  for await (const line of createInterface({ input: createReadStream(path).pipe(createGunzip()) })) {
    lines.push(line);
  }
  return lines;
}

/** The bytes of an NDJSON line, by the documented rule: JSON as written, strings and $base64 unwrapped. */
function ndjsonBody(line: string, original: Buffer): boolean {
  const value = JSON.parse(line);
  if (line === original.toString('utf8').replaceAll(/\r|\n/g, ' ')) return true;
  if (typeof value === 'string') return value === original.toString('utf8');
  return Buffer.from(value.$base64 ?? '', 'base64').equals(original);
}

describe('hostile bodies among clean traffic, in every format', () => {
  for (const { group, format } of FORMATS) {
    it(`${format.type}: every event lands once, in a data file or a dead letter, and the checkpoint reaches the end`, {
      timeout: 90_000,
    }, async () => {
      const dir = await mkdtemp(join(tmpdir(), `hubcap-hostile-${group}-`));
      const last = bodies.length - 1;
      const agent = startAgent({
        topic: `hostile-${group}`,
        source: {
          fullyQualifiedNamespace: `127.0.0.1:${eh.port}`,
          eventHubName: 'hostile',
          consumerGroup: group,
          startPosition: 'earliest',
          auth: { kind: 'connectionString', connectionString: eh.connectionString('hostile') },
        },
        destination: { kind: 'localFolder', path: dir },
        pathTemplate: '{topic}/{partition}',
        format,
        batching: { maxEvents: 10, maxAgeSeconds: 2 },
      });
      try {
        await agent.waitForLine((l) => l.msg === 'file written' && l.lastSequence === last, 60_000);
        agent.kill('SIGTERM');
        expect(await agent.exited).toBe(0);
        expect(agent.lines.some((l) => /"level":(50|60)/.test(l))).toBe(false); // no error logged

        const files = await filesUnder(dir);
        const dead = files.filter((f) => f.includes('/_deadletter/'));
        const data = files.filter((f) => !f.includes('/_deadletter/'));
        const landed: number[] = [];
        const deadLetters: DeadLetterRecord[] = [];
        for (const f of dead) {
          for (const line of (await readFile(f, 'utf8')).trim().split('\n'))
            deadLetters.push(JSON.parse(line));
        }
        for (const d of deadLetters) {
          expect(Buffer.from(d.bodyBase64, 'base64').equals(bodies[d.sequenceNumber]!)).toBe(true);
          landed.push(d.sequenceNumber);
        }
        if (format.type === 'ndjson') {
          // File names carry the sequence range; lines are in order within a file.
          for (const f of data) {
            const first = Number(/-(\d{20})-\d{20}\.ndjson\.gz$/.exec(f)![1]);
            const lines = await streamedLines(f);
            for (const [k, line] of lines.entries()) {
              expect(ndjsonBody(line, bodies[first + k]!)).toBe(true);
              landed.push(first + k);
            }
          }
          // DuckDB's JSON-lines reader, strict: every line of every file is read back.
          expect(await readJsonLines(data)).toHaveLength(bodies.length);
          expect(deadLetters).toEqual([]);
        } else if (format.type === 'avro') {
          for (const f of data) {
            for (const r of (await decodeAvroWithApacheReader(f)).records) {
              const seq = Number(r.SequenceNumber);
              const body = (r.Body as { bytes: Buffer } | null)?.bytes ?? Buffer.alloc(0);
              expect(body.equals(bodies[seq]!)).toBe(true);
              if (seq === TYPED_INDEX) {
                expect(r.Properties).toEqual({
                  bin: { bytes: TYPED.bin },
                  at: { long: TYPED.at.getTime() },
                  count: { long: TYPED.count },
                  ratio: { double: TYPED.ratio },
                  flag: { string: 'true' },
                  name: { string: 'n' },
                });
              }
              landed.push(seq);
            }
          }
          expect(deadLetters).toEqual([]);
        } else {
          const rows = await readParquet(data, { select: '_eh_sequence_number, _eh_properties' });
          for (const r of rows) landed.push(Number(r._eh_sequence_number));
          const typed = rows.find((r) => Number(r._eh_sequence_number) === TYPED_INDEX)!;
          const entries = typed._eh_properties as { key: string; value: string }[];
          expect(Object.fromEntries(entries.map((e) => [e.key, e.value]))).toMatchObject({
            bin: JSON.stringify({ $base64: TYPED.bin.toString('base64') }),
            at: TYPED.at.toISOString(),
            count: String(TYPED.count),
          });
          // Clean events and the 1 MB object are rows; what no reader takes as a row is a dead letter.
          expect(deadLetters.map((d) => d.reason).sort()).toEqual(
            [
              'duplicate-key',
              'duplicate-key',
              'too-deep',
              'too-deep',
              'invalid-string',
              'invalid-string',
              'invalid-utf8',
              'not-json',
              'not-json',
              'field-name',
              'not-json',
              'invalid-utf8',
              'not-json',
              'not-json',
              'not-object',
              'not-object',
              'not-object',
              'not-object',
              'not-object',
              'too-wide',
            ].sort(),
          );
        }
        expect(landed.sort((a, b) => a - b)).toEqual(bodies.map((_, i) => i));
      } finally {
        agent.kill();
        await rm(dir, { recursive: true, force: true });
      }
    });
  }
});
