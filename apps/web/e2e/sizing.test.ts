import { ensureAdmin, rollupMinutes } from '@hubcap/api';
import { createTestDatabase, type TestDatabase } from '@hubcap/db/testing';
import { type Azurite, startAzurite } from '@hubcap/local-azurite';
import { type LocalEventHubs, startLocalEventHubs } from '@hubcap/local-eventhubs';
import { localTopicInput } from '@hubcap/shared/testing';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, signIn, startWeb, type WebServer } from './server.ts';

/**
 * The CPU and memory recommendation in Chromium: from the format alone before any report, then from
 * the peak an agent reports, on the topic page and beside the form's scaling fields.
 */
const ADMIN = { email: 'admin@example.com', password: 'e2e admin password' };

let db: TestDatabase;
let hubs: LocalEventHubs;
let azurite: Azurite;
let web: WebServer;
let browser: Browser;
let page: Page;
const pageErrors: string[] = [];

beforeAll(async () => {
  [db, hubs, azurite] = await Promise.all([
    createTestDatabase(),
    startLocalEventHubs({ host: '127.0.0.1', port: 0, hubs: [{ name: 'orders', partitionCount: 2 }] }),
    startAzurite(),
  ]);
  await ensureAdmin(db.prisma, ADMIN.email, ADMIN.password);
  web = await startWeb(db.url, { HUBCAP_MAINTENANCE: 'off' });
  browser = await launchChromium();
  page = await (
    await browser.newContext({ baseURL: web.url, viewport: { width: 1280, height: 900 } })
  ).newPage();
  page.on('pageerror', (error) => pageErrors.push(error.message));
  await signIn(page, ADMIN);
});

afterAll(async () => {
  await browser?.close();
  await web?.close();
  await Promise.all([hubs?.close(), azurite?.close(), db?.drop()]);
});

/** Calls a procedure from the signed-in page, as the browser's own code would. */
async function mutate(path: string, input: unknown) {
  return page.evaluate(
    async ({ path, input }) => {
      const res = await fetch(`/api/trpc/${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(input),
      });
      return { status: res.status, body: await res.json() };
    },
    { path, input },
  );
}

/** One report of an agent replica reading `bytesPerSecond`, sent to the server as an agent sends it. */
async function report(token: string, bytesPerSecond: number) {
  const now = new Date().toISOString();
  const res = await fetch(`${web.url}/api/trpc/agent.report`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({
      agentId: 'orders-0',
      topic: 'orders',
      agentVersion: '0.1.0',
      sentAt: now,
      startedAt: now,
      ready: true,
      partitions: [],
      eventsPerSecond: bytesPerSecond / 1000,
      bytesPerSecond,
      eventsWritten: 0,
      bytesWritten: 0,
      filesWritten: 0,
      deadLettered: 0,
      errors: [],
    }),
  });
  expect(res.status).toBe(200);
}

describe('CPU and memory recommendation in Chromium', () => {
  it('recommends from the format alone until a rate is measured, then from the measured peak', async () => {
    const config = {
      ...localTopicInput('orders', {
        hub: 'orders',
        eventHubs: hubs.connectionString(),
        storage: azurite.connectionString,
      }),
      format: { type: 'avro' },
      scaling: { cpu: '250m', memory: '512Mi' },
    };
    expect((await mutate('topic.create', { config })).status).toBe(200);

    await page.goto('/topics/orders');
    const advice = page.getByTestId('sizing-advice');
    await expect(advice.getAttribute('data-basis')).resolves.toBe('none');
    await expect(advice.textContent()).resolves.toContain(
      'No measured rate yet: no whole minute of agent reports in the last 24 h.',
    );
    await expect(page.getByTestId('recommended-cpu').textContent()).resolves.toBe('1');
    await expect(advice.textContent()).resolves.toContain('You have 250m and 512Mi.');

    // An agent reports 2 MB/s; the minute is rolled up as the maintenance pass does.
    const issued = await mutate('topic.createAgentToken', { name: 'orders', agentName: 'orders-agent' });
    await report(issued.body.result.data.token, 2e6);
    // Into the minute before, as if it had passed: only whole minutes are measured.
    const orders = await db.prisma.topic.findUniqueOrThrow({ where: { slug: 'orders' } });
    await db.prisma.metricSample.updateMany({
      where: { topicId: orders.id },
      data: { at: new Date(Date.now() - 60_000) },
    });
    await rollupMinutes(db.prisma, new Date(Date.now() - 120_000));
    await page.reload();
    await expect(advice.getAttribute('data-basis')).resolves.toBe('measured');
    // 2 MB/s × 3 × 94.5 CPU-s/GB (Avro) = 0.57 core.
    await expect(advice.textContent()).resolves.toContain(
      'Peak 2.0 MB/s (2,000 events/s) over the last 24 h → 0.57 core for a 3× burst at 94.5 CPU-s/GB.',
    );
    await expect(page.getByTestId('recommended-cpu').textContent()).resolves.toBe('600m');
    await expect(page.getByTestId('recommended-memory').textContent()).resolves.toBe('384Mi');
    await expect(advice.locator('[data-status]').textContent()).resolves.toBe('below');

    // The form sizes the format being chosen from the same peak, and applies it in one click.
    await page.goto('/topics/orders/edit');
    const formAdvice = page.getByTestId('sizing-advice');
    await expect(formAdvice.getAttribute('data-basis')).resolves.toBe('measured');
    await expect(page.getByTestId('recommended-cpu').textContent()).resolves.toBe('600m');
    await page.selectOption('#field-format-type', 'ndjson');
    await formAdvice.filter({ hasText: 'at 51.3 CPU-s/GB' }).waitFor();
    // NDJSON + gzip: 2 MB/s × 3 × 51.3 = 0.31 core.
    await expect(formAdvice.textContent()).resolves.toContain('→ 0.31 core for a 3× burst at 51.3 CPU-s/GB');
    await expect(page.getByTestId('recommended-cpu').textContent()).resolves.toBe('400m');
    await formAdvice.getByRole('button', { name: 'Apply recommendation' }).click();
    await expect.poll(() => page.inputValue('#field-scaling-cpu')).toBe('400m');
    await expect.poll(() => page.inputValue('#field-scaling-memory')).toBe('384Mi');
    await expect.poll(() => formAdvice.locator('[data-status]').textContent()).toBe('enough');
    expect(pageErrors).toEqual([]);
  });
});
