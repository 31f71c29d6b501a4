import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EventHubProducerClient } from '@azure/event-hubs';
import { createTopic, ensureAdmin, SecretBox } from '@hubcap/api';
import { createTestDatabase, type TestDatabase } from '@hubcap/db/testing';
import { avroFile, records } from '@hubcap/lake/test/capture-files';
import { type Azurite, startAzurite } from '@hubcap/local-azurite';
import { type LocalEventHubs, startLocalEventHubs } from '@hubcap/local-eventhubs';
import { segmentFileName } from '@hubcap/shared';
import { localTopicInput } from '@hubcap/shared/testing';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, startWeb, type WebServer } from './server.ts';

/** The Capture cutover page in Debian's Chromium: scan, plan, start, continuity; and the rollback. */
const ADMIN = { email: 'admin@example.com', password: 'e2e admin password' };
const KEY = Buffer.alloc(32, 7);
const here = dirname(fileURLToPath(import.meta.url));

let db: TestDatabase;
let hubs: LocalEventHubs;
let azurite: Azurite;
let web: WebServer;
let browser: Browser;
let page: Page;
const pageErrors: string[] = [];

/** `count` more events on each partition. */
async function send(count: number) {
  const producer = new EventHubProducerClient(hubs.connectionString(), 'orders');
  for (const partitionId of ['0', '1']) {
    const batch = await producer.createBatch({ partitionId });
    for (let i = 0; i < count; i++) batch.tryAdd({ body: { i } });
    await producer.sendBatch(batch);
  }
  await producer.close();
}

beforeAll(async () => {
  [db, hubs, azurite] = await Promise.all([
    createTestDatabase(),
    startLocalEventHubs({ host: '127.0.0.1', port: 0, hubs: [{ name: 'orders', partitionCount: 2 }] }),
    startAzurite(),
  ]);
  await send(30);
  // Capture wrote 0–29 on each partition before it was disabled.
  const capture = await azurite.container('capture');
  for (const p of ['0', '1'])
    await capture
      .getBlockBlobClient(`127.0.0.1/orders/${p}/2026/03/07/09/05/00.avro`)
      .uploadData(await avroFile(records(0, 29, '3/7/2026 9:05:59 AM')));
  await ensureAdmin(db.prisma, ADMIN.email, ADMIN.password);
  await createTopic(
    db.prisma,
    new SecretBox(KEY),
    localTopicInput('orders', {
      namespace: `127.0.0.1:${hubs.port}`,
      hub: 'orders',
      eventHubs: hubs.connectionString(),
      storage: azurite.connectionString,
    }),
    { actor: 'system' },
  );
  // Agents and replays run as local processes: the cutover deploys them, the gap fill of a rollback runs one.
  web = await startWeb(db.url, (url) => ({
    HUBCAP_MAINTENANCE: 'off',
    HUBCAP_ENCRYPTION_KEY: KEY.toString('base64'),
    HUBCAP_DEPLOYER: 'local',
    HUBCAP_AGENT_ENTRY: join(here, '../../agent/src/main.ts'),
    HUBCAP_AGENT_CONTROL_PLANE_URL: url,
  }));
  browser = await launchChromium();
  page = await (await browser.newContext({ baseURL: web.url })).newPage();
  page.on('pageerror', (error) => pageErrors.push(`${page.url()}: ${error.message}`));
});

afterAll(async () => {
  await browser?.close();
  await web?.close();
  await Promise.all([hubs?.close(), azurite?.close(), db?.drop()]);
});

describe('the Capture cutover page in Chromium', () => {
  it('scans, shows the plan, starts after Capture and proves continuity; names a bad format and a missing container', async () => {
    await page.goto('/sign-in');
    await page.fill('input[name=email]', ADMIN.email);
    await page.fill('input[name=password]', ADMIN.password);
    await page.click('button[type=submit]');
    await page.waitForURL(`${web.url}/`);
    await page.goto('/topics/orders');
    await page.click('text=Cut over from Capture');
    await page.waitForURL(/\/topics\/orders\/cutover$/);

    await page.fill('#capture-path-format', '../{Namespace}');
    await expect(page.locator('[role=alert]').first().textContent()).resolves.toMatch(
      /must not contain "\." or "\.\." path segments/,
    );
    await expect(page.locator('button:has-text("Scan Capture\'s files")').isDisabled()).resolves.toBe(true);
    await page.fill(
      '#capture-path-format',
      '{Namespace}/{EventHub}/{PartitionId}/{Year}/{Month}/{Day}/{Hour}/{Minute}/{Second}',
    );

    await page.fill('#capture-container', 'missing-container');
    await page.click('button:has-text("Scan Capture\'s files")');
    await page.waitForSelector('text=container "missing-container" does not exist');

    await page.fill('#capture-container', 'capture');
    await page.click('button:has-text("Scan Capture\'s files")');
    const plan = page.locator('[data-testid=cutover-plan] tbody tr');
    await plan.first().waitFor();
    await expect(plan.allInnerTexts()).resolves.toEqual([
      expect.stringMatching(/^0\s+29\s+2026-03-07T09:05:59\.000Z\s+30\s+127\.0\.0\.1\/orders\/0\//),
      expect.stringMatching(/^1\s+29\s+2026-03-07T09:05:59\.000Z\s+30\s+127\.0\.0\.1\/orders\/1\//),
    ]);

    page.once('dialog', (dialog) => void dialog.accept());
    await page.click('button:has-text("Start Hubcap after Capture")');
    await page.waitForSelector("text=Checkpoints written at Capture's last events.");

    // The agents landed from 30 on both partitions.
    const lake = await azurite.container('lake');
    for (const p of ['0', '1'])
      await lake.getBlockBlobClient(segmentFileName(p, 30, 35, '.ndjson')).uploadData(Buffer.from('{}\n'));
    await page.click('button:has-text("Check continuity")');
    const report = page.locator('[data-testid=cutover-report] tbody tr');
    await report.first().waitFor();
    await expect(report.allInnerTexts()).resolves.toEqual([
      expect.stringMatching(/^0\s+29.*\s+30\s+continuous$/),
      expect.stringMatching(/^1\s+29.*\s+30\s+continuous$/),
    ]);
    expect(pageErrors).toEqual([]);
  });

  it('rolls back to Capture: refuses while agents run, plans the gap, fills it and proves continuity', {
    timeout: 120_000,
  }, async () => {
    const rollback = page.locator('section:has(h2:text-is("Rolling back to Capture"))');
    // The agents the cutover deployed still run: the plan says what to do first.
    await rollback.getByRole('button', { name: 'Plan the rollback' }).click();
    await expect(rollback.locator('[data-testid=rollback-blockers]').textContent()).resolves.toContain(
      "its agents are running: remove or pause the topic's deployment",
    );
    await expect(rollback.getByRole('button', { name: 'Fill the gap' }).isDisabled()).resolves.toBe(true);

    // Remove the deployment (the agents drain), then Capture is enabled again: it starts at 40 on
    // partition 0 and at 36 on partition 1, while Hubcap's last is 35 on both.
    await page.goto('/topics/orders');
    page.once('dialog', (dialog) => void dialog.accept());
    await page.locator('[data-testid=deploy-panel]').getByRole('button', { name: 'Remove' }).click();
    await page.locator('[data-testid=deploy-panel] [data-status=deleted]').waitFor({ timeout: 60_000 });
    await send(20);
    const capture = await azurite.container('capture');
    for (const [p, first] of [
      ['0', 40],
      ['1', 36],
    ] as const)
      await capture
        .getBlockBlobClient(`127.0.0.1/orders/${p}/2026/03/07/09/30/00.avro`)
        .uploadData(await avroFile(records(first, 49, '3/7/2026 9:30:01 AM')));

    await page.goto('/topics/orders/cutover');
    await page.fill('#capture-container', 'capture');
    await page.click('button:has-text("Scan Capture\'s files")');
    await rollback.getByRole('button', { name: 'Plan the rollback' }).click();
    const rows = rollback.locator('[data-testid=rollback-plan] tbody tr');
    await rows.first().waitFor();
    await expect(rows.allInnerTexts()).resolves.toEqual([
      expect.stringMatching(
        /^0\s+35\s+40\s+2026-03-07T09:30:01\.000Z\s+gap 36–39 \(4 events landed by neither\)$/,
      ),
      expect.stringMatching(/^1\s+35\s+36\s+2026-03-07T09:30:01\.000Z\s+continuous$/),
    ]);
    page.once('dialog', (dialog) => void dialog.accept());
    await rollback.getByRole('button', { name: 'Fill the gap' }).click();
    await rollback
      .locator('[role=status]', { hasText: /^Replay \w+ started into the topic's own layout/ })
      .waitFor();

    // When the replay has landed 36–39, Hubcap's last + 1 is Capture's first on every partition.
    await page.selectOption('#report-direction', 'toCapture');
    const report = page.locator('[data-testid=cutover-report] tbody tr');
    const continuous = [/^0\s+39\s+40.*\s+continuous$/, /^1\s+35\s+36.*\s+continuous$/];
    const deadline = Date.now() + 60_000;
    for (;;) {
      await page.click('button:has-text("Check continuity")');
      await page.waitForTimeout(1000);
      const texts = await report.allInnerTexts();
      if (texts.length === 2 && texts.every((t, i) => continuous[i]!.test(t))) break;
      if (Date.now() > deadline) throw new Error(`never continuous: ${JSON.stringify(texts)}`);
    }
    await rollback.getByRole('button', { name: 'Scan again' }).click();
    await rollback
      .locator('[data-testid=rollback-blockers]', { hasText: 'nothing to fill' })
      .waitFor({ timeout: 10_000 });
    await expect(rollback.locator('[data-testid=rollback-blockers]').textContent()).resolves.toBe(
      "nothing to fill: on every partition Hubcap's last + 1 is Capture's first (the gap is filled)",
    );
    expect(pageErrors).toEqual([]);
  });
});
