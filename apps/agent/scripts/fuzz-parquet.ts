/**
 * Differential fuzzing of the Parquet path: `node scripts/fuzz-parquet.ts [bodies] [seed]`.
 * Every generated body the encoder's own checks accept must be written by DuckDB; a segment that
 * DuckDB refuses is split until the bodies it refuses are found, and those are printed.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDbEngine } from '../src/formats/parquet/duckdb.ts';
import { SchemaTracker } from '../src/formats/parquet/schema-tracker.ts';
import type { SourceEvent } from '../src/pipeline/event.ts';
import { fuzzBody, nested, prng } from '../test/json-fuzz.ts';
import { writeParquetSegment } from '../test/parquet-segment.ts';

const total = Number(process.argv[2] ?? 5000);
const seed = Number(process.argv[3] ?? 1);
const dir = await mkdtemp(join(tmpdir(), 'hubcap-fuzz-'));
const engine = await DuckDbEngine.create({ spillDir: join(dir, 'spill') });
const rand = prng(seed);
/** One running schema for the whole run, as a topic has: files widen what earlier files saw. */
const tracker = new SchemaTracker();
const t0 = Date.parse('2026-01-01T00:00:00Z');
const event = (seq: number, body: Buffer): SourceEvent => ({
  body,
  sequenceNumber: seq,
  offset: String(seq),
  enqueuedTimeUtc: new Date(t0 + seq),
});

/** Whether the segment is written; dead letters do not count as failures. */
async function writes(events: SourceEvent[]): Promise<string | null> {
  try {
    await writeParquetSegment(
      { engine, tracker, maxBodyBytes: 1024 * 1024 },
      [events],
      join(dir, 'out.parquet'),
    );
    return null;
  } catch (error) {
    return (error as Error).message;
  }
}

async function culprits(events: SourceEvent[]): Promise<{ event: SourceEvent; error: string }[]> {
  const error = await writes(events);
  if (error === null) return [];
  if (events.length === 1) return [{ event: events[0]!, error }];
  const half = Math.ceil(events.length / 2);
  const found = [...(await culprits(events.slice(0, half))), ...(await culprits(events.slice(half)))];
  // Refused only together (e.g. types that disagree across rows): report the pair's first member.
  return found.length > 0 ? found : [{ event: events[0]!, error }];
}

let failures = 0;
const SEGMENT = 200;
for (let at = 0; at < total; at += SEGMENT) {
  const events = Array.from({ length: Math.min(SEGMENT, total - at) }, (_, i) =>
    event(
      at + i,
      rand() < 0.01
        ? nested(Math.floor(10 ** (1 + rand() * 4)), rand() < 0.5 ? 'object' : 'array')
        : fuzzBody(rand),
    ),
  );
  for (const { event: e, error } of await culprits(events)) {
    failures++;
    const body = e.body as Buffer;
    console.log(`REFUSED ${JSON.stringify(body.toString('utf8').slice(0, 300))}\n  ${error.slice(0, 300)}`);
  }
}
console.log(`${total} bodies, seed ${seed}: ${failures} accepted by the checks but refused by the writer`);
engine.close();
await rm(dir, { recursive: true, force: true });
process.exitCode = failures > 0 ? 1 : 0;
