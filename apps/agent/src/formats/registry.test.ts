import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Format as FormatConfig } from '@hubcap/shared';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { localTopic } from '../../test/local-topic.ts';
import { ConfigError, validateConfig } from '../config.ts';
import { readEnv } from '../env.ts';
import { FlushedFiles } from '../ingest/flushed-files.ts';
import type { FlushedFile } from '../ingest/partition-writer.ts';
import type { SourceEvent } from '../pipeline/event.ts';
import { createMetrics } from '../runtime/metrics.ts';
import { AgentStatus } from '../runtime/status.ts';
import { newSegmentResult } from './format.ts';
import { type StartedFormat, startFormat } from './index.ts';

let root: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'hubcap-formats-'));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

const topic = (format: unknown) => localTopic(root, { format: format as FormatConfig });

async function start(format: unknown) {
  const metrics = createMetrics();
  const status = new AgentStatus();
  const config = topic(format);
  const flushed = new FlushedFiles(config.format.type);
  const started = await startFormat({
    topic: config,
    env: readEnv({ HUBCAP_SPILL_DIR: join(root, 'spill') }),
    agentId: 'a-1',
    state: { kind: 'folder', path: root },
    status,
    log: pino({ level: 'silent' }),
    metrics,
    credential: () => {
      throw new Error('no credential in this test');
    },
    flushed,
  });
  return { started, metrics, status, flushed };
}

async function encode(format: StartedFormat, bodies: string[]) {
  const events: SourceEvent[] = bodies.map((body, i) => ({
    body: Buffer.from(body),
    sequenceNumber: i,
    offset: String(i),
    enqueuedTimeUtc: new Date(Date.UTC(2026, 2, 7)),
  }));
  const ctx = { partitionId: '0', deadLetter: () => undefined, result: newSegmentResult() };
  await pipeline([
    Readable.from([events], { objectMode: true }),
    ...format.createStreams(ctx),
    new PassThrough().resume(),
  ]);
  return ctx.result;
}

describe('format registry', () => {
  const cases: [FormatConfig, string, string, boolean, boolean][] = [
    [{ type: 'ndjson', compression: 'gzip' }, '.ndjson.gz', 'application/gzip', false, false],
    [{ type: 'ndjson', compression: 'zstd' }, '.ndjson.zst', 'application/zstd', false, false],
    [
      { type: 'ndjson', compression: 'none', nonJson: 'deadLetter' },
      '.ndjson',
      'application/x-ndjson',
      false,
      true,
    ],
    [{ type: 'avro', codec: 'deflate' }, '.avro', 'avro/binary', false, false],
    [{ type: 'parquet', compression: 'zstd' }, '.parquet', 'application/vnd.apache.parquet', true, true],
  ];
  for (const [format, extension, contentType, spillsToDisk, deadLetters] of cases) {
    it(`starts ${JSON.stringify(format)} with its facts`, async () => {
      const { started } = await start(format);
      try {
        expect(started).toMatchObject({ extension, contentType, spillsToDisk, deadLetters });
      } finally {
        started.close();
      }
    });
  }

  it('refuses a format it does not know by the shared schema, naming the field', () => {
    const input = { ...topic(undefined), format: { type: 'orc' } };
    expect(() => validateConfig(input, 'HUBCAP_CONFIG')).toThrow(ConfigError);
    expect(() => validateConfig(input, 'HUBCAP_CONFIG')).toThrow(/format/);
  });

  it('NDJSON counts the bodies it rewrites in the Prometheus counter', async () => {
    const { started, metrics } = await start({ type: 'ndjson', compression: 'none' });
    await encode(started, ['{"a":\n1}', 'plain text', '{"b":2}']);
    const text = await metrics.registry.getSingleMetricAsString('hubcap_ndjson_rewritten_bodies_total');
    expect(text).toContain('hubcap_ndjson_rewritten_bodies_total{kind="json-whitespace"} 1');
    expect(text).toContain('hubcap_ndjson_rewritten_bodies_total{kind="string"} 1');
  });

  it('Parquet reports a new schema version with the first flushed file that carries it, once', async () => {
    const { started, status, flushed } = await start({ type: 'parquet', compression: 'zstd' });
    try {
      const result = await encode(started, ['{"id":1,"name":"x"}']);
      expect(result.schema?.fields.map((f) => f.path)).toEqual(['id', 'name']);
      expect(status.schemas.take()).toEqual([]); // not before a file with it is committed
      const file = { partitionId: '0', path: 'p/0-1.parquet', result } as FlushedFile;
      flushed.emit(file);
      flushed.emit({ ...file, path: 'p/0-2.parquet' });
      const reported = status.schemas.take();
      expect(reported).toHaveLength(1);
      expect(reported[0]).toMatchObject({ fingerprint: result.schema?.fingerprint, path: 'p/0-1.parquet' });
    } finally {
      started.close();
    }
  });
});
