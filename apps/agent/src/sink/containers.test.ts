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
import { ensureContainer } from './azure-blob-sink.ts';

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
});
