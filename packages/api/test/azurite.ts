import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const require = createRequire(import.meta.url);

export const AZURITE_KEY =
  'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

interface BlobServerLike {
  start(): Promise<void>;
  close(): Promise<void>;
  getHttpServerAddress(): string;
}

/** Azurite's blob service in this process, on an ephemeral port, data in a temp dir. */
export async function startAzurite(): Promise<{ connectionString: string; close(): Promise<void> }> {
  const BlobServer = require('azurite/dist/src/blob/BlobServer.js').default as new (
    c: unknown,
  ) => BlobServerLike;
  const BlobConfiguration = require('azurite/dist/src/blob/BlobConfiguration.js').default as new (
    ...args: unknown[]
  ) => unknown;
  const root = mkdtempSync(join(tmpdir(), 'hubcap-api-azurite-'));
  const server = new BlobServer(
    new BlobConfiguration(
      '127.0.0.1',
      0,
      5,
      join(root, 'db.json'),
      join(root, 'extent.json'),
      [{ locationId: 'Default', locationPath: join(root, 'blobs'), maxConcurrency: 4 }],
      false,
      undefined,
      false,
      undefined,
      true,
      true,
    ),
  );
  await server.start();
  return {
    connectionString: `DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=${AZURITE_KEY};BlobEndpoint=${server.getHttpServerAddress()}/devstoreaccount1;`,
    async close() {
      await server.close();
      rmSync(root, { recursive: true, force: true });
    },
  };
}
