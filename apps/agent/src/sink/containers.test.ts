import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  AccountSASPermissions,
  AccountSASResourceTypes,
  AccountSASServices,
  BlobServiceClient,
  generateAccountSASQueryParameters,
  StorageSharedKeyCredential,
} from '@azure/storage-blob';
import { type Azurite, DEV_ACCOUNT_KEY, startAzurite } from '@hubcap/local-azurite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AzureBlobSink, ensureContainer } from './azure-blob-sink.ts';

let azurite: Azurite;
beforeAll(async () => {
  azurite = await startAzurite();
});
afterAll(async () => {
  await azurite?.close();
});

let counter = 0;
const unique = () => `missing-${process.pid}-${++counter}`;

describe('ensureContainer', () => {
  it('creates a missing container when allowed, and leaves an existing one alone', async () => {
    const container = azurite.service.getContainerClient(unique());
    await ensureContainer(container, 'destination', true);
    expect(await container.exists()).toBe(true);
    await container.getBlockBlobClient('kept').upload('x', 1);
    await ensureContainer(container, 'destination', true);
    expect(await container.getBlockBlobClient('kept').exists()).toBe(true);
  });

  it('names a missing container and what to do when creating is turned off', async () => {
    const name = unique();
    const container = azurite.service.getContainerClient(name);
    await expect(ensureContainer(container, 'checkpoint', false)).rejects.toThrow(
      `checkpoint container "${name}" does not exist in storage account "devstoreaccount1": create it, or let the agent create it (HUBCAP_CREATE_CONTAINERS=true)`,
    );
    expect(await container.exists()).toBe(false);
  });

  it('names a missing container and what to do when its identity may not create containers', async () => {
    // A SAS that may read and list but not create: what a reader-only identity gets.
    const sas = generateAccountSASQueryParameters(
      {
        expiresOn: new Date(Date.now() + 3600_000),
        permissions: AccountSASPermissions.parse('rl'),
        resourceTypes: AccountSASResourceTypes.parse('sco').toString(),
        services: AccountSASServices.parse('b').toString(),
      },
      new StorageSharedKeyCredential('devstoreaccount1', DEV_ACCOUNT_KEY),
    ).toString();
    const readOnly = new BlobServiceClient(`${azurite.service.url}?${sas}`);
    const name = unique();
    const error = await ensureContainer(readOnly.getContainerClient(name), 'destination', true).catch(
      (e: Error) => e,
    );
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toMatch(
      new RegExp(
        `^destination container "${name}" does not exist in storage account "devstoreaccount1" and the agent may not create it \\(403 .*\\): create the container, or give the agent's identity the right to create containers`,
      ),
    );
    expect(await azurite.service.getContainerClient(name).exists()).toBe(false);
  });

  it('names a container deleted while the agent runs, and what to do', async () => {
    const lake = await azurite.container(unique());
    const staging = await azurite.container(unique());
    const errors: string[] = [];
    const abort = new AbortController();
    const sink = new AzureBlobSink({
      container: lake,
      stagingContainer: staging,
      stagingPrefix: 'staging/t',
      observer: {
        onError: (operation, info) => {
          errors.push(`${operation}: ${info.message}`);
          abort.abort();
        },
        onSuccess: () => {},
      },
    });
    await lake.delete();
    const file = sink.openFile('0-1', 'application/x-ndjson', abort.signal);
    await pipeline(Readable.from([Buffer.from('{"a":1}\n')]), file.stream);
    await expect(file.publish('x/0-1.ndjson')).rejects.toThrow(/aborted/);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(
      new RegExp(
        `^upload: destination container "${lake.containerName}" does not exist in storage account "devstoreaccount1" \\(404 ContainerNotFound: .*\\): create it again, or restart the agent, which creates missing containers$`,
      ),
    );
  });
});
