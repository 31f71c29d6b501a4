import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const require = createRequire(import.meta.url);

interface BlobServerLike {
  start(): Promise<void>;
  close(): Promise<void>;
  clean(): Promise<void>;
  getHttpServerAddress(): string;
}
type BlobServerCtor = new (config: unknown) => BlobServerLike;
type BlobConfigurationCtor = new (...args: unknown[]) => unknown;

const DEV_ACCOUNT_KEY =
  'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

export interface Azurite {
  connectionString: string;
  close(): Promise<void>;
}

/** Starts Azurite's blob service in-process on a free port with its data in a temp dir. */
export async function startAzurite(): Promise<Azurite> {
  const BlobServer = require('azurite/dist/src/blob/BlobServer.js').default as BlobServerCtor;
  const BlobConfiguration = require('azurite/dist/src/blob/BlobConfiguration.js')
    .default as BlobConfigurationCtor;
  const dir = mkdtempSync(join(tmpdir(), 'hubcap-azurite-'));
  const config = new BlobConfiguration(
    '127.0.0.1',
    0,
    5,
    join(dir, '__azurite_db_blob__.json'),
    join(dir, '__azurite_db_blob_extent__.json'),
    [{ locationId: 'Default', locationPath: join(dir, 'blobs'), maxConcurrency: 1 }],
    false,
    undefined,
    false,
    undefined,
    true,
    true,
  );
  const server = new BlobServer(config);
  await server.start();
  const address = server.getHttpServerAddress();
  return {
    connectionString: `DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=${DEV_ACCOUNT_KEY};BlobEndpoint=${address}/devstoreaccount1;`,
    async close() {
      await server.close();
      await server.clean().catch(() => {});
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
