import { Writable } from 'node:stream';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { createMetrics } from '../runtime/metrics.ts';
import { AgentStatus } from '../runtime/status.ts';
import {
  countInMetrics,
  type FlushedFileFacts,
  FlushedFiles,
  logWritten,
  recordInStatus,
} from './flushed-files.ts';
import type { FlushedFile } from './partition-writer.ts';

const file: FlushedFile = {
  partitionId: '3',
  path: 'p/3-00000000000000000010-00000000000000000014.ndjson.gz',
  events: 5,
  bytes: 120,
  uncompressedBytes: 400,
  firstSequence: 10,
  lastSequence: 14,
  reason: 'events',
  durationMs: 250,
  deadLettered: 2,
  deadLetterPath: 'p/_deadletter/3-00000000000000000010-00000000000000000014.ndjson',
  result: { rows: 3, deadLettered: 2, deadLetterKinds: { 'not-json': 2 } },
};

describe('flushed files', () => {
  it('hands every listener the file with its format, in subscription order', () => {
    const seen: string[] = [];
    const flushed = new FlushedFiles('ndjson', [(f) => seen.push(`first ${f.format} ${f.lastSequence}`)]);
    flushed.subscribe((f: FlushedFileFacts) => seen.push(`second ${f.path}`));
    flushed.emit(file);
    expect(seen).toEqual([`first ndjson 14`, `second ${file.path}`]);
  });

  it('feeds the metrics, the next report and one log line', async () => {
    const metrics = createMetrics();
    const status = new AgentStatus();
    const lines: Record<string, unknown>[] = [];
    const log = pino(
      new Writable({
        write(chunk, _, done) {
          lines.push(JSON.parse(String(chunk)));
          done();
        },
      }),
    );
    new FlushedFiles('ndjson', [countInMetrics(metrics), recordInStatus(status), logWritten(log)]).emit(file);

    const text = await metrics.registry.metrics();
    expect(text).toContain('hubcap_events_written_total{partition="3"} 5');
    expect(text).toContain('hubcap_bytes_written_total{partition="3"} 120');
    expect(text).toContain('hubcap_files_written_total{partition="3"} 1');
    expect(text).toContain('hubcap_dead_lettered_total{partition="3",reason="not-json"} 2');
    expect(text).toContain('hubcap_flush_duration_seconds_count{reason="events"} 1');

    expect(status.totals).toEqual({ eventsWritten: 5, bytesWritten: 120, filesWritten: 1, deadLettered: 2 });
    expect(status.deadLetteredByReason).toEqual({ 'not-json': 2 });
    expect(status.files.take()).toMatchObject([
      { path: file.path, partitionId: '3', events: 5, firstSequenceNumber: 10, lastSequenceNumber: 14 },
    ]);

    expect(lines).toMatchObject([
      {
        msg: 'file written',
        partition: '3',
        path: file.path,
        lastSequence: 14,
        deadLettered: 2,
        deadLetterPath: file.deadLetterPath,
      },
    ]);
  });
});
