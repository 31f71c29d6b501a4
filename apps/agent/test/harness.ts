import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { EventHubProducerClient } from '@azure/event-hubs';
import type { ContainerClient } from '@azure/storage-blob';
import { PATH_PRESETS, type TopicConfigInput } from '@hubcap/shared';
import { decodeBodies } from './read-back.ts';

export const AGENT_MAIN = fileURLToPath(new URL('../src/main.ts', import.meta.url));

/** Sends `count` events per partition, bodies `{"id":"<partition>-<i>","pad":"…"}`, with the SDK producer. */
export async function produce(
  connectionString: string,
  hub: string,
  partitions: string[],
  count: number,
  options: { from?: number; bodyBytes?: number } = {},
): Promise<number> {
  const producer = new EventHubProducerClient(connectionString, hub);
  const pad = 'x'.repeat(Math.max(0, (options.bodyBytes ?? 100) - 40));
  let sent = 0;
  try {
    await Promise.all(
      partitions.map(async (partitionId) => {
        const from = options.from ?? 0;
        let batch = await producer.createBatch({ partitionId });
        for (let i = from; i < from + count; i++) {
          const event = { body: Buffer.from(`{"id":"${partitionId}-${i}","pad":"${pad}"}`) };
          if (!batch.tryAdd(event)) {
            await producer.sendBatch(batch);
            sent += batch.count;
            batch = await producer.createBatch({ partitionId });
            batch.tryAdd(event);
          }
        }
        if (batch.count > 0) {
          await producer.sendBatch(batch);
          sent += batch.count;
        }
      }),
    );
  } finally {
    await producer.close();
  }
  return sent;
}

export interface AgentProcess {
  child: ChildProcess;
  lines: string[];
  /** Resolves with the first log line matching. */
  waitForLine(
    match: (line: Record<string, unknown>) => boolean,
    timeoutMs?: number,
  ): Promise<Record<string, unknown>>;
  /** Resolves once the agent listens (a SIGTERM before that ends it at once, with code 0). */
  started: Promise<void>;
  exited: Promise<number | null>;
  kill(signal?: NodeJS.Signals): void;
}

/** Runs the agent as a child process (Node 24 from node_modules, type stripping) with a config in env. */
export function startAgent(config: TopicConfigInput, env: Record<string, string> = {}): AgentProcess {
  const child = spawn(process.execPath, [AGENT_MAIN], {
    env: {
      PATH: process.env.PATH ?? '',
      HUBCAP_CONFIG: JSON.stringify(config),
      HUBCAP_HTTP_PORT: '0',
      HUBCAP_LOG_LEVEL: 'info',
      HUBCAP_MAX_WAIT_SECONDS: '0.2',
      HUBCAP_LB_UPDATE_INTERVAL_MS: '500',
      HUBCAP_LB_OWNERSHIP_EXPIRY_MS: '3000',
      // The local Event Hubs server, Azurite and fake control planes listen on this machine.
      HUBCAP_ALLOWED_ENDPOINTS: '127.0.0.1',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  const waiters: {
    match: (l: Record<string, unknown>) => boolean;
    resolve: (l: Record<string, unknown>) => void;
  }[] = [];
  let partial = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    partial += chunk;
    let nl = partial.indexOf('\n');
    while (nl !== -1) {
      const line = partial.slice(0, nl);
      partial = partial.slice(nl + 1);
      lines.push(line);
      let parsed: Record<string, unknown> | null = null;
      try {
        parsed = JSON.parse(line);
      } catch {}
      if (parsed) {
        for (let i = waiters.length - 1; i >= 0; i--) {
          if (waiters[i]!.match(parsed)) {
            waiters[i]!.resolve(parsed);
            waiters.splice(i, 1);
          }
        }
      }
      nl = partial.indexOf('\n');
    }
  });
  const started = new Promise<void>((resolve) => {
    waiters.push({
      match: (l) => String(l.msg).startsWith('http server listening'),
      resolve: () => resolve(),
    });
  });
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => lines.push(`stderr: ${chunk}`));
  const exited = once(child, 'exit').then(([code]) => code as number | null);
  return {
    child,
    lines,
    started,
    exited,
    kill: (signal = 'SIGKILL') => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    },
    waitForLine(match, timeoutMs = 60_000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () =>
            reject(
              new Error(`timed out waiting for a log line; last lines:\n${lines.slice(-15).join('\n')}`),
            ),
          timeoutMs,
        );
        waiters.push({
          match,
          resolve: (l) => {
            clearTimeout(timer);
            resolve(l);
          },
        });
      });
    },
  };
}

export interface LakeCheck {
  files: number;
  events: number;
  missing: string[];
  duplicated: string[];
  unexpected: string[];
}

/** Reads every file back and checks each expected id appears exactly once. */
export async function checkLake(
  container: ContainerClient,
  expectedIds: Iterable<string>,
  prefix = '',
): Promise<LakeCheck> {
  const seen = new Map<string, number>();
  let files = 0;
  let events = 0;
  for await (const blob of container.listBlobsFlat({ prefix })) {
    // Dead letters, manifests and markers: paths with a segment starting with "_", which readers skip.
    if (blob.name.split('/').some((segment) => segment.startsWith('_'))) continue;
    files++;
    const bytes = await container.getBlobClient(blob.name).downloadToBuffer();
    for (const body of await decodeBodies(blob.name, bytes)) {
      events++;
      const id = (JSON.parse(body) as { id: string }).id;
      seen.set(id, (seen.get(id) ?? 0) + 1);
    }
  }
  const expected = new Set(expectedIds);
  const missing: string[] = [];
  for (const id of expected) if (!seen.has(id)) missing.push(id);
  const duplicated = [...seen].filter(([, n]) => n > 1).map(([id]) => id);
  const unexpected = [...seen.keys()].filter((id) => !expected.has(id));
  return { files, events, missing, duplicated, unexpected };
}

export function expectedIds(partitions: string[], count: number, from = 0): string[] {
  return partitions.flatMap((p) => Array.from({ length: count }, (_, i) => `${p}-${from + i}`));
}

/**
 * The hub `clicks` of the local Event Hubs server landed in a container of Azurite under `lake/`, in
 * hourly Hive folders, in small files (at most 8 events, 1 s old).
 */
export function clicksToLake(
  eh: { port: number; connectionString(hub: string): string },
  storage: string,
  container: string,
) {
  return {
    topic: 'clicks',
    source: {
      fullyQualifiedNamespace: `127.0.0.1:${eh.port}`,
      eventHubName: 'clicks',
      auth: { kind: 'connectionString' as const, connectionString: eh.connectionString('clicks') },
    },
    destination: {
      kind: 'azureBlob' as const,
      account: { kind: 'connectionString' as const, connectionString: storage },
      container,
      checkpointContainer: `${container}-checkpoints`,
      prefix: 'lake',
    },
    pathTemplate: PATH_PRESETS.hive,
    batching: { maxAgeSeconds: 1, maxEvents: 8 },
  };
}

/** Polls `probe` every 250 ms until it gives a value. */
export async function until<T>(
  what: string,
  probe: () => Promise<T | null | undefined | false> | T | null | undefined | false,
  ms = 60_000,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}
