import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BlobServiceClient, type ContainerClient } from '@azure/storage-blob';

const require = createRequire(import.meta.url);

interface BlobServerLike {
  start(): Promise<void>;
  close(): Promise<void>;
  clean(): Promise<void>;
  getHttpServerAddress(): string;
}
type BlobServerCtor = new (config: unknown) => BlobServerLike;
type BlobConfigurationCtor = new (...args: unknown[]) => unknown;

export const DEV_ACCOUNT_KEY =
  'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

export interface Azurite {
  connectionString: string;
  service: BlobServiceClient;
  /** Creates a container (unique name per call when `name` is omitted). */
  container(name?: string): Promise<ContainerClient>;
  close(): Promise<void>;
}

let counter = 0;

/** Azurite's blob service in-process, on an ephemeral port, with its data in a temp dir. */
export async function startAzurite(dir?: string): Promise<Azurite> {
  const BlobServer = require('azurite/dist/src/blob/BlobServer.js').default as BlobServerCtor;
  const BlobConfiguration = require('azurite/dist/src/blob/BlobConfiguration.js')
    .default as BlobConfigurationCtor;
  const root = dir ?? mkdtempSync(join(tmpdir(), 'hubcap-agent-azurite-'));
  const config = new BlobConfiguration(
    '127.0.0.1',
    0,
    5,
    join(root, '__azurite_db_blob__.json'),
    join(root, '__azurite_db_blob_extent__.json'),
    [{ locationId: 'Default', locationPath: join(root, 'blobs'), maxConcurrency: 4 }],
    false,
    undefined,
    false,
    undefined,
    true,
    true,
  );
  const server = new BlobServer(config);
  await server.start();
  const connectionString = `DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=${DEV_ACCOUNT_KEY};BlobEndpoint=${server.getHttpServerAddress()}/devstoreaccount1;`;
  const service = BlobServiceClient.fromConnectionString(connectionString);
  return {
    connectionString,
    service,
    async container(name) {
      const client = service.getContainerClient(
        name ?? `c${process.pid}-${++counter}-${Date.now() % 100000}`,
      );
      await client.createIfNotExists();
      return client;
    },
    async close() {
      await server.close();
      if (!dir) {
        await server.clean().catch(() => {});
        rmSync(root, { recursive: true, force: true });
      }
    },
  };
}

/** Every blob in a container: name → bytes. */
export async function readAllBlobs(container: ContainerClient, prefix = ''): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  for await (const blob of container.listBlobsFlat({ prefix })) {
    out.set(blob.name, await container.getBlobClient(blob.name).downloadToBuffer());
  }
  return out;
}
