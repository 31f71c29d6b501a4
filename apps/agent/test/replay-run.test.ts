import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import { gunzipSync } from 'node:zlib';
import { EventHubProducerClient } from '@azure/event-hubs';
import { FolderStore, verify } from '@hubcap/lake';
import { startLocalEventHubs } from '@hubcap/local-eventhubs';
import { PATH_PRESETS, PartitionManifest, type ReplayRun, TopicConfig, TopicMarker } from '@hubcap/shared';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { pathLayout } from '../src/agent.ts';
import { FileCheckpointStore } from '../src/checkpoint/file-checkpoint-store.ts';
import { completenessFor } from '../src/completeness/index.ts';
import { createFileFormat, type FileFormat, UnwritableError } from '../src/formats/index.ts';
import { SchemaTracker } from '../src/formats/parquet/schema-tracker.ts';
import type { SourceEvent } from '../src/pipeline/event.ts';
import { runReplay } from '../src/replay/replay.ts';
import { createMetrics } from '../src/runtime/metrics.ts';
import { AgentStatus } from '../src/runtime/status.ts';
import { LocalFolderSink } from '../src/sink/local-folder-sink.ts';
import { createReaderClient } from '../src/source/event-hubs.ts';
import { duckDbForTests } from './parquet-segment.ts';

/**
 * A replay run in process (its format can be one a test builds) against the local Event Hubs server
 * and a local folder. The server's clock is the test's: H is an hour boundary three hours ago.
 */
const hour = 3600_000;
const H = Math.floor(Date.now() / hour) * hour - 3 * hour;
let clock = H;

const duck = duckDbForTests('hubcap-replay-run-');

let eh: Awaited<ReturnType<typeof startLocalEventHubs>>;
beforeAll(async () => {
  eh = await startLocalEventHubs({
    hubs: [
      { name: 'windows', partitionCount: 2 },
      { name: 'poison', partitionCount: 1 },
      { name: 'drift', partitionCount: 1 },
      { name: 'landed', partitionCount: 2 },
    ],
    now: () => clock,
  });
});
afterAll(async () => {
  await eh?.close();
});

let root: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'hubcap-replay-run-'));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

/** Sends `bodies` to one partition at the server's current clock. */
async function send(hub: string, partitionId: string, bodies: string[]): Promise<void> {
  const producer = new EventHubProducerClient(eh.connectionString(hub), hub);
  try {
    const batch = await producer.createBatch({ partitionId });
    for (const body of bodies) batch.tryAdd({ body: Buffer.from(body) });
    await producer.sendBatch(batch);
  } finally {
    await producer.close();
  }
}

function topic(hub: string, more: Record<string, unknown> = {}): TopicConfig {
  return TopicConfig.parse({
    topic: hub,
    source: {
      fullyQualifiedNamespace: `127.0.0.1:${eh.port}`,
      eventHubName: hub,
      auth: { kind: 'connectionString', connectionString: eh.connectionString(hub) },
    },
    destination: { kind: 'localFolder', path: root },
    pathTemplate: PATH_PRESETS.hive,
    batching: { maxAgeSeconds: 1, maxEvents: 4 },
    ...more,
  });
}

async function replay(config: TopicConfig, run: ReplayRun, format?: FileFormat) {
  const fileFormat = format ?? createFileFormat(config.format);
  const sink = new LocalFolderSink(root);
  const client = createReaderClient(config, () => {
    throw new Error('no credential: the test hub takes a connection string');
  });
  const own = pathLayout(config, fileFormat.extension);
  const layout = run.target.kind === 'prefix' ? { ...own, prefix: run.target.prefix } : own;
  const status = new AgentStatus();
  try {
    return await runReplay({
      run,
      config,
      client,
      consumerGroup: config.source.consumerGroup,
      checkpoints: new FileCheckpointStore(join(root, '.hubcap', 'checkpoints', run.id)),
      sink,
      format: fileFormat,
      layout,
      completeness: completenessFor({ config, layout, sink, client }),
      limits: { maxBytes: 1 << 20, maxEvents: 4, maxAgeMs: 1000, boundary: 'hour' },
      receive: { maxBatchSize: 50, maxWaitTimeInSeconds: 0.2, prefetchCount: 50 },
      log: pino({ level: 'silent' }),
      metrics: createMetrics(),
      status,
      signal: new AbortController().signal,
      report: async () => {},
      reportEveryMs: 60_000,
    });
  } finally {
    await client.close();
  }
}

/** Every file under `prefix` (manifests and markers aside) and its bytes. */
async function tree(prefix: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const name of (await readdir(join(root, prefix), { recursive: true })).sort()) {
    if (!/\.ndjson(\.gz)?$/.test(name)) continue;
    out[name] = (await readFile(join(root, prefix, name))).toString('base64');
  }
  return out;
}

/** Every landed line (data and dead letters) under `prefix`, by kind. */
async function landed(prefix: string): Promise<{ data: string[]; dead: { body: string; reason: string }[] }> {
  const out = { data: [] as string[], dead: [] as { body: string; reason: string }[] };
  for (const name of await readdir(join(root, prefix), { recursive: true })) {
    if (!name.endsWith('.ndjson') && !name.endsWith('.ndjson.gz')) continue;
    const bytes = await readFile(join(root, prefix, name));
    const text = (name.endsWith('.gz') ? gunzipSync(bytes) : bytes).toString('utf8').trim();
    if (!text) continue;
    for (const line of text.split('\n')) {
      if (name.includes('_deadletter')) {
        const dl = JSON.parse(line) as { bodyBase64: string; reason: string };
        out.dead.push({ body: Buffer.from(dl.bodyBase64, 'base64').toString('utf8'), reason: dl.reason });
      } else out.data.push(line);
    }
  }
  return out;
}

describe('a replay run', () => {
  it('isolates an event its format refuses as a dead letter and finishes, as the live agent does', {
    timeout: 60_000,
  }, async () => {
    clock = H + 60_000;
    const bodies = Array.from({ length: 12 }, (_, i) => (i === 5 ? '"poison"' : `{"n":${i}}`));
    await send('poison', '0', bodies);
    /** Refuses a file holding "poison" when the file ends (as DuckDB's COPY does for Parquet). */
    const refusing: FileFormat = {
      extension: '.ndjson',
      contentType: 'application/x-ndjson',
      createStreams: () => {
        const lines: Buffer[] = [];
        return [
          new Transform({
            writableObjectMode: true,
            transform(events: SourceEvent[], _, done) {
              for (const e of events) lines.push(Buffer.concat([e.body as Buffer, Buffer.from('\n')]));
              done();
            },
            flush(done) {
              if (lines.some((l) => l.includes('poison')))
                done(new UnwritableError('Invalid Input Error: the writer refuses this row'));
              else done(null, Buffer.concat(lines));
            },
          }),
        ];
      },
    };
    const run = (id: string) =>
      replay(
        topic('poison'),
        {
          id,
          from: new Date(H).toISOString(),
          to: new Date(H + hour).toISOString(),
          target: { kind: 'prefix', prefix: 'backfill' },
        },
        refusing,
      );
    const result = await run('poison1');
    expect(result.state).toBe('succeeded');
    const { data, dead } = await landed('backfill');
    expect(data.sort()).toEqual(bodies.filter((b) => b !== '"poison"').sort());
    expect(dead).toEqual([{ body: '"poison"', reason: 'unwritable' }]);

    // Another run over the same files (as into the topic's own layout) rewrites them, the dead letter too.
    const before = await tree('backfill');
    const again = await run('poison2');
    expect(again.state).toBe('succeeded');
    expect(await tree('backfill')).toEqual(before);
  });

  it("into the topic's own layout, rewrites only what the deployed agents landed: they land the rest", {
    timeout: 60_000,
  }, async () => {
    clock = H + 120_000;
    const bodies = Array.from({ length: 10 }, (_, i) => `{"n":${i}}`);
    await send('landed', '0', bodies);
    await send('landed', '1', bodies);
    const result = await replay(topic('landed'), {
      id: 'landed1',
      from: new Date(H).toISOString(),
      to: new Date(H + hour).toISOString(),
      target: { kind: 'ownLayout' },
      // Partition 0's agents checkpointed 5; partition 1's have landed nothing yet.
      landedUpTo: { '0': 5 },
    });
    expect(result.state).toBe('succeeded');
    expect(result.partitions.map((p) => [p.partitionId, p.firstSequence, p.lastSequence])).toEqual([
      ['0', 0, 5],
      ['1', null, null],
    ]);
    expect((await landed('')).data.sort()).toEqual(bodies.slice(0, 6).sort());
  });

  it('writes the manifests and markers of the windows it lands whole, none for the windows its range cuts', {
    timeout: 60_000,
  }, async () => {
    // Window W0 = [H, H+1h) is cut by the start, W1 and W2 lie whole in the range, W3 is cut by the end.
    const at = async (time: number, partition: string, names: string[]) => {
      clock = time;
      await send(
        'windows',
        partition,
        names.map((n) => JSON.stringify({ n })),
      );
    };
    await at(H + 10 * 60_000, '0', ['early']); // before the start
    await at(H + 50 * 60_000, '0', ['w0-a', 'w0-b']);
    await at(H + 50 * 60_000, '1', ['w0-c']);
    await at(H + hour + 60_000, '0', ['w1-a', 'w1-b', 'w1-c', 'w1-d', 'w1-e']);
    await at(H + hour + 2 * 60_000, '1', ['w1-f']);
    await at(H + 2 * hour + 60_000, '0', ['w2-a']); // partition 1 has nothing in W2
    await at(H + 3 * hour + 60_000, '1', ['w3-a']);
    await at(H + 3 * hour + 40 * 60_000, '1', ['late']); // after the end
    clock = H + 3 * hour + 50 * 60_000;
    const config = topic('windows');
    const run: ReplayRun = {
      id: 'windows1',
      from: new Date(H + 30 * 60_000).toISOString(),
      to: new Date(H + 3 * hour + 30 * 60_000).toISOString(),
      target: { kind: 'prefix', prefix: 'backfill' },
    };
    const result = await replay(config, run);
    expect(result.state).toBe('succeeded');
    const { data } = await landed('backfill');
    expect(data.map((l) => JSON.parse(l).n).sort()).toEqual(
      ['w0-a', 'w0-b', 'w0-c', 'w1-a', 'w1-b', 'w1-c', 'w1-d', 'w1-e', 'w1-f', 'w2-a', 'w3-a'].sort(),
    );

    const folder = (start: number) => {
      const t = new Date(start).toISOString();
      return `backfill/topic=windows/date=${t.slice(0, 10)}/hour=${t.slice(11, 13)}`;
    };
    const sealed = (await readdir(join(root, 'backfill'), { recursive: true }))
      .filter((n) => n.includes('_hubcap') && n.endsWith('.json'))
      .map((n) => `backfill/${n}`)
      .sort();
    expect(sealed).toEqual(
      [H + hour, H + 2 * hour].flatMap((w) =>
        ['0', '1'].map((p) => `${folder(w)}/_hubcap/${p}.manifest.json`),
      ),
    );
    const manifest = async (w: number, p: string) =>
      PartitionManifest.parse(
        JSON.parse(await readFile(join(root, `${folder(w)}/_hubcap/${p}.manifest.json`), 'utf8')),
      );
    expect((await manifest(H + hour, '0')).events).toBe(5);
    expect((await manifest(H + 2 * hour, '1')).events).toBe(0);
    for (const w of [H + hour, H + 2 * hour]) {
      const marker = TopicMarker.parse(
        JSON.parse(await readFile(join(root, `${folder(w)}/_SUCCESS`), 'utf8')),
      );
      expect(marker.partitions.map((p) => p.partition)).toEqual(['0', '1']);
    }

    // The audit reads the whole windows complete; the cut ones have files and no manifest.
    const report = await verify(new FolderStore(root), { prefix: 'backfill', template: PATH_PRESETS.hive });
    const status = (w: number, p: string) =>
      report.cells.find((c) => c.window === folder(w) && c.partition === p)?.status;
    expect(['0', '1'].map((p) => [status(H + hour, p), status(H + 2 * hour, p)])).toEqual([
      ['complete', 'complete'],
      ['complete', 'complete'],
    ]);
    expect(['0', '1'].map((p) => [status(H, p), status(H + 3 * hour, p)])).toEqual([
      ['problem', undefined],
      ['problem', 'open'],
    ]);

    // A resumed run (every range landed) seals again with the same bytes.
    const before = await Promise.all(sealed.map((n) => readFile(join(root, n))));
    const again = await replay(config, run);
    expect(again.state).toBe('succeeded');
    const after = await Promise.all(sealed.map((n) => readFile(join(root, n))));
    expect(after).toEqual(before);
  });

  it("into the topic's own layout, derives again the manifests of the windows it cuts, whose files it rewrote", {
    timeout: 60_000,
  }, async () => {
    // W-1 holds an event with a field no later event has; W holds events 1..8 in two files.
    clock = H - hour + 60_000;
    await send('drift', '0', [JSON.stringify({ id: 0, extra: true })]);
    clock = H + 40 * 60_000;
    await send(
      'drift',
      '0',
      Array.from({ length: 8 }, (_, i) => JSON.stringify({ id: i + 1 })),
    );
    clock = H + 2 * hour;
    const config = topic('drift', { format: { type: 'parquet', compression: 'zstd' } });
    const parquet = () =>
      createFileFormat(config.format, {
        parquet: { engine: duck.engine, tracker: new SchemaTracker(), maxBodyBytes: 1 << 20 },
      });
    const own = (id: string, from: number, to: number): ReplayRun => ({
      id,
      from: new Date(from).toISOString(),
      to: new Date(to).toISOString(),
      target: { kind: 'ownLayout' },
    });
    // As the live agent would: both windows landed and sealed, the files of W carrying `extra`.
    await replay(config, own('live', H - hour, H + hour), parquet());
    const audit = () => verify(new FolderStore(root), { prefix: '', template: PATH_PRESETS.hive });
    expect((await audit()).ok).toBe(true);
    // A replay from inside W reads from its first file on, never sees `extra`: the files differ.
    const result = await replay(config, own('cut', H + 30 * 60_000, H + hour - 1), parquet());
    expect(result.state).toBe('succeeded');
    const report = await audit();
    expect(report.cells.map((c) => [c.status, c.problems])).toEqual([
      ['complete', []],
      ['complete', []],
    ]);
  });
});
