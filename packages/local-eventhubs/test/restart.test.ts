import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventHubConsumerClient, EventHubProducerClient, earliestEventPosition } from '@azure/event-hubs';
import { afterAll, describe, expect, it } from 'vitest';
import { waitFor } from './helpers.ts';

const CLI = join(import.meta.dirname, '..', 'src', 'cli.ts');
const retryOptions = { maxRetries: 30, retryDelayInMs: 100, maxRetryDelayInMs: 300, timeoutInMs: 3000 };

interface Running {
  child: ChildProcess;
  port: number;
  connectionString: string;
}

/** Runs the CLI in a child process (the real thing a developer runs) and waits for its banner. */
function runServer(dir: string, port: number): Promise<Running> {
  const child = spawn(process.execPath, [CLI, '--port', String(port), '--hub', 'r:2', '--persist', dir], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const cs = /^(Endpoint=sb:\/\/[^:]+:(\d+);.*)$/m.exec(out);
      if (cs) resolve({ child, port: Number(cs[2]), connectionString: `${cs[1]};EntityPath=r` });
    });
    child.once('exit', (code) => reject(new Error(`server exited early with ${code}`)));
  });
}

function kill9(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}

describe('kill -9 and restart with persistence', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hubcap-leh-restart-'));
  let server: Running | undefined;

  afterAll(async () => {
    if (server && server.child.exitCode === null) await kill9(server.child);
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps every acknowledged event; consumers reconnect and continue without loss or gaps', async () => {
    server = await runServer(dir, 0);
    const { port, connectionString } = server;
    const producer = new EventHubProducerClient(connectionString, { retryOptions });
    const consumer = new EventHubConsumerClient('$Default', connectionString, { retryOptions });

    const received = new Map<string, number[]>([
      ['0', []],
      ['1', []],
    ]);
    const bodies = new Set<number>();
    const subscription = consumer.subscribe(
      {
        processEvents: async (events, ctx) => {
          for (const e of events) {
            received.get(ctx.partitionId)!.push(e.sequenceNumber);
            bodies.add(e.body as number);
          }
        },
        processError: async () => {},
      },
      { startPosition: earliestEventPosition, maxWaitTimeInSeconds: 0.2, maxBatchSize: 100 },
    );

    const acked: number[] = [];
    let sending = true;
    let next = 0;
    const sendLoop = (async () => {
      while (sending) {
        const ids = Array.from({ length: 10 }, () => next++);
        await producer.sendBatch(ids.map((id) => ({ body: id })));
        acked.push(...ids);
        await new Promise((r) => setTimeout(r, 5));
      }
    })();

    await waitFor(() => acked.length >= 300 && bodies.size >= 200, 20_000, 'traffic before the crash');
    await kill9(server.child);
    const ackedAtCrash = acked.length;
    await new Promise((r) => setTimeout(r, 300));
    server = await runServer(dir, port);
    await waitFor(() => acked.length >= ackedAtCrash + 300, 30_000, 'traffic after the restart');
    sending = false;
    await sendLoop;
    await waitFor(() => acked.every((id) => bodies.has(id)), 30_000, 'every acknowledged event');

    for (const seqs of received.values()) {
      // Delivered in order, each sequence number once, no holes.
      expect(seqs).toEqual([...Array(seqs.length).keys()]);
    }
    const producerAfter = await producer.getPartitionProperties('0');
    expect(producerAfter.lastEnqueuedSequenceNumber).toBe(received.get('0')!.length - 1);

    await subscription.close();
    await consumer.close();
    await producer.close();
  }, 90_000);
});
