import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { BlobServiceClient, type ContainerClient } from '@azure/storage-blob';

const require = createRequire(import.meta.url);

/** Azurite's well-known development account key (public; not a secret). */
export const DEV_ACCOUNT_KEY =
  'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

export function devConnectionString(blobEndpoint: string): string {
  return `DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=${DEV_ACCOUNT_KEY};BlobEndpoint=${blobEndpoint}/devstoreaccount1;`;
}

export interface Azurite {
  connectionString: string;
  service: BlobServiceClient;
  /** Creates a container (a unique name per call when `name` is omitted). */
  container(name?: string): Promise<ContainerClient>;
  close(): Promise<void>;
}

interface BlobServerLike {
  start(): Promise<void>;
  close(): Promise<void>;
  clean(): Promise<void>;
  getHttpServerAddress(): string;
}
type BlobServerCtor = new (config: unknown) => BlobServerLike;
type BlobConfigurationCtor = new (...args: unknown[]) => unknown;

let counter = 0;

function handle(connectionString: string, close: () => Promise<void>): Azurite {
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
    close,
  };
}

/**
 * Azurite's blob service in this process, on a free port; data in `dir`, or in a temp dir removed on
 * close. Azurite has no public programmatic API, hence the constructors from its dist folder.
 */
export async function startAzurite(options: { dir?: string } = {}): Promise<Azurite> {
  const BlobServer = require('azurite/dist/src/blob/BlobServer.js').default as BlobServerCtor;
  const BlobConfiguration = require('azurite/dist/src/blob/BlobConfiguration.js')
    .default as BlobConfigurationCtor;
  const root = options.dir ?? mkdtempSync(join(tmpdir(), 'hubcap-azurite-'));
  // host, port, keepAliveTimeout, metadata db, extent db, extent folders, access log, its stream,
  // debug log, its file, loose, skipApiVersionCheck.
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
  return handle(devConnectionString(server.getHttpServerAddress()), async () => {
    await server.close();
    if (!options.dir) {
      await server.clean().catch(() => {});
      rmSync(root, { recursive: true, force: true });
    }
  });
}

/** The command line that runs Azurite's blob service as its own process. */
export function azuriteCommand(options: { location: string; port: number; host?: string }): string[] {
  return [
    join(dirname(require.resolve('azurite/package.json')), 'dist/src/blob/main.js'),
    ...['--blobHost', options.host ?? '127.0.0.1', '--blobPort', String(options.port)],
    ...['--location', options.location, '--silent', '--skipApiVersionCheck', '--loose', '--disableTelemetry'],
  ];
}

/**
 * Azurite in a child process (benchmarks: it must not share an event loop with what is measured).
 * Resolves once it listens; `close()` stops it and removes its temp dir.
 */
export async function spawnAzurite(): Promise<Azurite> {
  const root = mkdtempSync(join(tmpdir(), 'hubcap-azurite-'));
  const child = spawn(process.execPath, azuriteCommand({ location: root, port: 0 }), {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let output = '';
  const endpoint = await new Promise<string>((resolve, reject) => {
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      output += chunk;
      const match = /listens on (http:\/\/[\d.]+:\d+)/.exec(output);
      if (match) resolve(match[1]!);
    });
    child.once('exit', (code) => reject(new Error(`Azurite exited with ${code}: ${output}`)));
  });
  return handle(devConnectionString(endpoint), async () => {
    if (child.exitCode === null) {
      child.kill('SIGTERM');
      await new Promise((resolve) => child.once('exit', resolve));
    }
    rmSync(root, { recursive: true, force: true });
  });
}

/** Every blob in a container: name → bytes. */
export async function readAllBlobs(container: ContainerClient, prefix = ''): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  for await (const blob of container.listBlobsFlat({ prefix })) {
    out.set(blob.name, await container.getBlobClient(blob.name).downloadToBuffer());
  }
  return out;
}
