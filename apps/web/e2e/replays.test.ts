import { randomBytes } from 'node:crypto';
import { createTopic, ensureAdmin, SecretBox } from '@hubcap/api';
import { createTestDatabase, type TestDatabase } from '@hubcap/db/testing';
import { workloadTopicInput } from '@hubcap/shared/testing';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, signIn, startWeb, type WebServer } from './server.ts';

/** The topic page's Replays section in Debian's Chromium, at a phone's width. */
const ADMIN = { email: 'admin@example.com', password: 'e2e admin password' };

let db: TestDatabase;
let web: WebServer;
let browser: Browser;
const key = randomBytes(32);

beforeAll(async () => {
  db = await createTestDatabase();
  await ensureAdmin(db.prisma, ADMIN.email, ADMIN.password);
  web = await startWeb(db.url, { HUBCAP_MAINTENANCE: 'off', HUBCAP_ENCRYPTION_KEY: key.toString('base64') });
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  await web?.close();
  await db?.drop();
});

describe('replays in Chromium', () => {
  it('names wrong fields, warns before the own layout, and lists a finished replay with its verify report', async () => {
    const { id } = await createTopic(db.prisma, new SecretBox(key), workloadTopicInput('clicks'), {
      actor: 'system',
    });
    await db.prisma.replay.create({
      data: {
        topicId: id,
        state: 'succeeded',
        from: new Date('2026-11-24T10:00:00Z'),
        to: new Date('2026-11-24T14:00:00Z'),
        target: { kind: 'prefix', prefix: 'backfill/tuesday' },
        partitions: [
          { partitionId: '0', firstSequence: 100, lastSequence: 199, landed: 199, done: true },
          { partitionId: '1', firstSequence: 50, lastSequence: 79, landed: 79, done: true },
        ],
        verify: {
          ok: true,
          problems: 0,
          cells: [
            {
              window: 'backfill/tuesday/topic=clicks/date=2026-11-24/hour=10',
              partition: '0',
              status: 'open',
              events: 0,
              files: 3,
              problems: [],
            },
          ],
        },
        finishedAt: new Date(),
      },
    });

    const context = await browser.newContext({ baseURL: web.url, viewport: { width: 390, height: 844 } });
    const page = await context.newPage();
    await signIn(page, ADMIN);
    await page.goto('/topics/clicks');

    const row = page.locator('[data-testid=replays] tbody tr');
    await row.first().waitFor({ timeout: 30_000 });
    expect(await row.count()).toBe(1);
    const text = (await row.first().textContent()) ?? '';
    expect(text).toContain('backfill/tuesday');
    expect(text).toContain('succeeded');
    expect(text).toContain('130 / 130');
    expect(text).toContain('2 / 2 done');
    expect(text).toContain('verified');

    // End before start: the schema's message at its field, and nothing sent.
    await page.fill('#replay-from', '2026-11-24T14:00');
    await page.fill('#replay-to', '2026-11-24T10:00');
    await page.fill('#replay-prefix', 'a/../b');
    await page.getByRole('button', { name: 'Start replay' }).click();
    expect(await page.locator('[data-field=replay-to]').textContent()).toBe('must be after the start');
    expect(await page.locator('[data-field=replay-prefix]').textContent()).toBe(
      'must not contain "." or ".." path segments',
    );

    // A start in the future: the server's answer, at its field.
    const later = new Date(Date.now() + 2 * 86_400_000).toISOString().slice(0, 16);
    const evenLater = new Date(Date.now() + 3 * 86_400_000).toISOString().slice(0, 16);
    await page.fill('#replay-from', later);
    await page.fill('#replay-to', evenLater);
    await page.fill('#replay-prefix', 'backfill/next');
    await page.getByRole('button', { name: 'Start replay' }).click();
    await page.locator('[data-field=replay-from]').waitFor();
    expect(await page.locator('[data-field=replay-from]').textContent()).toBe('must not be in the future');
    expect(await db.prisma.replay.count()).toBe(1);

    await page.getByLabel("the topic's own layout").check();
    expect(await page.getByRole('note').textContent()).toContain('Rewrites the topic');
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    await context.close();
  });
});
