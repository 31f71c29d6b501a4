import { describe, expect, it } from 'vitest';
import { readAllBlobs, spawnAzurite, startAzurite } from './index.ts';

describe.each([
  ['in process', startAzurite],
  ['as a child process', spawnAzurite],
])('Azurite %s', (_, start) => {
  it('stores and lists blobs with the development account', async () => {
    const azurite = await start();
    try {
      const container = await azurite.container();
      await container.getBlockBlobClient('a/b.txt').upload('hello', 5);
      const blobs = await readAllBlobs(container);
      expect([...blobs].map(([name, bytes]) => [name, bytes.toString()])).toEqual([['a/b.txt', 'hello']]);
    } finally {
      await azurite.close();
    }
  });
});
