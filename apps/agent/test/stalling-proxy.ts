import { connect, createServer, type Socket } from 'node:net';
import { devConnectionString } from '@hubcap/local-azurite';
import type { TopicConfigInput } from '@hubcap/shared';

export interface StallingProxy {
  /** `http://127.0.0.1:<port>`: put it in place of the real endpoint. */
  url: string;
  /** From now on no byte moves in either direction: requests hang, as storage does in an outage. */
  stall(): void;
  /** Bytes move again (what was sent meanwhile is delivered). */
  resume(): void;
  close(): Promise<void>;
}

/** A TCP proxy in front of a real server (Azurite) that can stop forwarding at any moment. */
export async function stallingProxy(target: { host: string; port: number }): Promise<StallingProxy> {
  const sockets = new Set<Socket>();
  let stalled = false;
  const server = createServer((client) => {
    const upstream = connect(target.port, target.host);
    for (const [from, to] of [
      [client, upstream],
      [upstream, client],
    ] as const) {
      sockets.add(from);
      if (stalled) from.pause();
      from.on('data', (chunk) => to.write(chunk));
      from.on('end', () => to.end());
      from.on('error', () => to.destroy());
      from.on('close', () => {
        sockets.delete(from);
        to.destroy();
      });
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    stall() {
      stalled = true;
      for (const s of sockets) s.pause();
    },
    resume() {
      stalled = false;
      for (const s of sockets) s.resume();
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Topic `stall`: NDJSON + gzip from the local hub `stall` to Azurite behind `proxy`, within `memory`. */
export function stallTopic(ehPort: number, ehConnection: string, proxy: StallingProxy, memory: string) {
  return {
    topic: 'stall',
    source: {
      fullyQualifiedNamespace: `127.0.0.1:${ehPort}`,
      eventHubName: 'stall',
      auth: { kind: 'connectionString', connectionString: ehConnection },
    },
    destination: {
      kind: 'azureBlob',
      account: { kind: 'connectionString', connectionString: devConnectionString(proxy.url) },
      container: 'stall-lake',
      checkpointContainer: 'stall-checkpoints',
    },
    format: { type: 'ndjson', compression: 'gzip' },
    scaling: { memory },
  } satisfies TopicConfigInput;
}
