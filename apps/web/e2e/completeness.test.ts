import { randomBytes } from 'node:crypto';
import type { ContainerClient } from '@azure/storage-blob';
import { createTopic, ensureAdmin, SecretBox } from '@hubcap/api';
import { createTestDatabase, type TestDatabase } from '@hubcap/db/testing';
import { oneFileManifest } from '@hubcap/lake/testing';
import { type Azurite, startAzurite } from '@hubcap/local-azurite';
import { PATH_PRESETS, segmentFileName } from '@hubcap/shared';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, signIn, startWeb, type WebServer } from './server.ts';

/** The topic page's completeness grid in Debian's Chromium, at a phone's width. */
const ADMIN = { email: 'admin@example.com', password: 'e2e admin password' };
const hour = 3600_000;

let db: TestDatabase;
let azurite: Azurite;
let web: WebServer;
let browser: Browser;
const key = randomBytes(32);

beforeAll(async () => {
  [db, azurite] = await Promise.all([createTestDatabase(), startAzurite()]);
  await ensureAdmin(db.prisma, ADMIN.email, ADMIN.password);
  web = await startWeb(db.url, { HUBCAP_MAINTENANCE: 'off', HUBCAP_ENCRYPTION_KEY: key.toString('base64') });
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  await web?.close();
  await azurite?.close();
  await db?.drop();
});

async function manifest(
  lake: ContainerClient,
  partition: string,
  start: number,
  first: number,
  last: number,
  lost: [number, number][] = [],
) {
  const t = new Date(start).toISOString();
  const path = `topic=clicks/date=${t.slice(0, 10)}/hour=${t.slice(11, 13)}/_hubcap/${partition}.manifest.json`;
  const bytes = oneFileManifest({ topic: 'clicks', partition, start, first, last, lost });
  await lake.getBlockBlobClient(path).upload(bytes, bytes.byteLength);
  return path.replace(/_hubcap\/.*$/, '_SUCCESS');
}

describe('completeness grid in Chromium', () => {
  it('shows windows × partitions with their state in words, and fits a 390 px screen', async () => {
    const lake = await azurite.container('lake');
    const { id } = await createTopic(
      db.prisma,
      new SecretBox(key),
      {
        topic: 'clicks',
        source: {
          fullyQualifiedNamespace: 'contoso.servicebus.windows.net',
          eventHubName: 'clicks',
          auth: { kind: 'workloadIdentity' },
        },
        destination: {
          kind: 'azureBlob',
          account: { kind: 'connectionString', connectionString: azurite.connectionString },
          container: 'lake',
        },
        pathTemplate: PATH_PRESETS.hive,
      },
      { actor: 'system' },
    );
    for (const partitionId of ['0', '1'])
      await db.prisma.partitionState.create({ data: { topicId: id, partitionId } });
    const previous = Math.floor(Date.now() / hour) * hour - hour;
    const marker = await manifest(lake, '0', previous, 0, 9);
    await manifest(lake, '1', previous, 4, 9, [[0, 3]]);
    await lake.getBlockBlobClient(marker).upload('{}', 2);
    const now = new Date(previous + hour).toISOString();
    await lake
      .getBlockBlobClient(
        `topic=clicks/date=${now.slice(0, 10)}/hour=${now.slice(11, 13)}/${segmentFileName('0', 10, 14, '.ndjson')}`,
      )
      .upload('{}', 2);

    const context = await browser.newContext({ baseURL: web.url, viewport: { width: 390, height: 844 } });
    const page = await context.newPage();
    await signIn(page, ADMIN);
    await page.goto('/topics/clicks');
    const row = page.locator(`[data-window="${new Date(previous).toISOString()}"]`);
    await row.waitFor({ timeout: 30_000 });
    const states = await row
      .locator('td[data-state]')
      .evaluateAll((cells) => cells.map((c) => c.getAttribute('data-state')));
    expect(states).toEqual(['complete', 'lost-at-source']);
    expect(await row.getByText('partition 1: lost at source, 6 events, 4 lost at source').count()).toBe(1);
    expect(await row.getByTestId('freshness').textContent()).not.toBe('—');
    // The current hour: partition 0 landed a file and sealed nothing yet (open), partition 1 nothing yet.
    const current = page.locator(`[data-window="${new Date(previous + hour).toISOString()}"] td[data-state]`);
    expect(await current.evaluateAll((cells) => cells.map((c) => c.getAttribute('data-state')))).toEqual([
      'open',
      'empty',
    ]);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    await context.close();
  });
});
