import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureAdmin, issueAgentToken } from '@hubcap/api';
import { createTestDatabase, type TestDatabase } from '@hubcap/db/testing';
import { type Azurite, startAzurite } from '@hubcap/local-azurite';
import { type LocalEventHubs, startLocalEventHubs, startSampleTraffic } from '@hubcap/local-eventhubs';
import { SECRET_FIELDS } from '@hubcap/shared';
import { localTopicInput } from '@hubcap/shared/testing';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, startWeb, type WebServer } from './server.ts';

/**
 * The control plane end to end in Debian's Chromium: sign in, onboard a topic against the local
 * Event Hubs server and Azurite, watch agent reports move the lag chart live, and check what a
 * viewer can see. `UPDATE_SCREENSHOTS=1` refreshes docs/screenshots.
 */
const SCREENSHOTS =
  process.env.UPDATE_SCREENSHOTS === '1'
    ? join(dirname(fileURLToPath(import.meta.url)), '../../../docs/screenshots')
    : null;
const ADMIN = { email: 'admin@example.com', password: 'e2e admin password' };

let db: TestDatabase;
let hubs: LocalEventHubs;
let azurite: Azurite;
let web: WebServer;
let browser: Browser;
let context: BrowserContext;
let page: Page;
/** What Chromium refused under the pages' Content-Security-Policy; the app must need nothing refused. */
const cspViolations: string[] = [];
const pageErrors: string[] = [];

beforeAll(async () => {
  [db, hubs, azurite] = await Promise.all([
    createTestDatabase(),
    startLocalEventHubs({ host: '127.0.0.1', port: 0, hubs: [{ name: 'clicks', partitionCount: 4 }] }),
    startAzurite(),
  ]);
  await startSampleTraffic({ connectionString: hubs.connectionString(), hub: 'clicks', count: 80 }).done;
  await azurite.container('lake');
  await ensureAdmin(db.prisma, ADMIN.email, ADMIN.password);
  web = await startWeb(db.url, { HUBCAP_MAINTENANCE: 'off' });
  browser = await launchChromium();
  context = await browser.newContext({ baseURL: web.url, viewport: { width: 1280, height: 900 } });
  page = await context.newPage();
  // Errors the browser reports on any page (React's hydration errors among them).
  page.on('pageerror', (error) => pageErrors.push(`${page.url()}: ${error.message}`));
  page.on('console', (message) => {
    if (/Content.Security.Policy/i.test(message.text())) cspViolations.push(message.text());
    // Refusals the tests provoke on purpose (400, 409…) are logged as failed loads: not page errors.
    else if (message.type() === 'error' && !message.text().startsWith('Failed to load resource'))
      pageErrors.push(`${page.url()}: ${message.text()}`);
  });
  if (SCREENSHOTS) mkdirSync(SCREENSHOTS, { recursive: true });
});

afterAll(async () => {
  await browser?.close();
  await web?.close();
  await Promise.all([hubs?.close(), azurite?.close(), db?.drop()]);
});

async function shot(name: string) {
  if (SCREENSHOTS) await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: false });
}

async function signIn(email: string, password: string) {
  await page.goto('/sign-in');
  await page.fill('input[name=email]', email);
  await page.fill('input[name=password]', password);
  await page.click('button[type=submit]');
  await page.waitForURL(`${web.url}/`);
}

const field = (path: string) => `#field-${path.replaceAll('.', '-')}`;
const errorFor = (path: string) => page.locator(`[data-error-for="${path}"]`);

describe('control plane in Chromium', () => {
  it('signs in and shows the empty fleet', async () => {
    await page.goto('/');
    await page.waitForURL(/\/sign-in$/);
    await signIn(ADMIN.email, ADMIN.password);
    await expect(page.textContent('[data-testid=whoami]')).resolves.toContain('admin@example.com · admin');
    await expect(page.locator('text=No topics yet.').count()).resolves.toBe(1);
  });

  it('shows field errors for bad values and sends nothing', async () => {
    await page.click('text=Onboard a topic');
    await page.waitForURL(/\/topics\/new$/);
    await page.fill(field('topic'), 'Bad Name');
    await page.fill(field('batching.maxAgeSeconds'), '99999');
    await page.fill(field('scaling.memory'), 'lots');
    // Parquet with a Schema Registry: a URL is not a namespace; an optional field typed in and cleared
    // again is left out, so it has nothing to complain about.
    await page.selectOption(field('format.type'), 'parquet');
    await page.check(field('format.schemaRegistry'));
    await page.fill(field('format.schemaRegistry.fullyQualifiedNamespace'), 'https://registry');
    const clientId = page.locator(field('format.schemaRegistry.clientId'));
    await clientId.pressSequentially('x');
    await clientId.clear();
    await page.click('button:has-text("Create topic")');
    await expect(errorFor('topic').textContent()).resolves.toMatch(/lower-case letters, digits and dashes/);
    await expect(errorFor('format.schemaRegistry.fullyQualifiedNamespace').textContent()).resolves.toMatch(
      /must be a host name/,
    );
    await expect(
      page.getAttribute(field('format.schemaRegistry.fullyQualifiedNamespace'), 'aria-invalid'),
    ).resolves.toBe('true');
    await expect(errorFor('format.schemaRegistry.clientId').count()).resolves.toBe(0);
    await expect(page.getAttribute(field('format.schemaRegistry.clientId'), 'aria-invalid')).resolves.toBe(
      'false',
    );
    await expect(clientId.inputValue()).resolves.toBe('');
    // With a connection string the namespace is not asked for: it comes from the connection string.
    await expect(page.locator(field('source.fullyQualifiedNamespace')).count()).resolves.toBe(0);
    await expect(errorFor('source.auth.connectionString').textContent()).resolves.toBe(
      'connection string is required',
    );
    await expect(errorFor('destination.container').textContent()).resolves.toMatch(/3–63 lower-case/);
    await expect(errorFor('batching.maxAgeSeconds').textContent()).resolves.toBe(
      'must be between 1 and 3600',
    );
    await expect(errorFor('scaling.memory').textContent()).resolves.toMatch(/memory quantity/);
    await expect(page.getAttribute(field('topic'), 'aria-invalid')).resolves.toBe('true');
    await shot('onboarding-errors');
    expect(await db.prisma.topic.count()).toBe(0);

    // Back to NDJSON for the next test: the registry fields go away with the Parquet format.
    await page.selectOption(field('format.type'), 'ndjson');
    await expect(page.locator(field('format.schemaRegistry')).count()).resolves.toBe(0);
  });

  it('onboards a topic with test connection and preview against local Event Hubs and Azurite', async () => {
    await page.fill(field('topic'), 'clicks');
    await page.fill(field('source.eventHubName'), 'clicks');
    await page.fill(field('source.auth.connectionString'), hubs.connectionString());
    await page.fill(field('destination.account.connectionString'), azurite.connectionString);
    await page.fill(field('destination.container'), 'lake');
    await page.fill(field('batching.maxAgeSeconds'), '60');
    await page.fill(field('scaling.memory'), '256Mi');

    await page.click('button:has-text("Test connection")');
    const results = page.locator('[data-testid=test-results]');
    await results.waitFor();
    await expect(results.textContent()).resolves.toMatch(/"clicks" has 4 partitions/);
    await expect(page.locator('text=passed').count()).resolves.toBeGreaterThan(0);

    await page.click('button:has-text("Preview events")');
    const fields = page.locator('[data-testid=inferred-fields]');
    await fields.waitFor();
    await expect(fields.textContent()).resolves.toContain('requestId');
    await expect(page.locator('[data-testid=preview-events] details').count()).resolves.toBe(20);
    await page.locator('[data-testid=preview-events] details').first().click();
    await shot('onboarding');

    await page.click('button:has-text("Create topic")');
    await page.waitForURL(/\/topics\/clicks$/);
    const html = await page.content();
    expect(html).not.toContain('SharedAccessKey=');
    expect(html).not.toContain('AccountKey=');
  });

  it('shows the server’s field errors too: a second topic with the same name, on the same consumer group', async () => {
    await page.goto('/topics/new');
    await page.fill(field('topic'), 'clicks');
    await page.fill(field('source.eventHubName'), 'clicks');
    await page.fill(field('source.auth.connectionString'), hubs.connectionString());
    // Before anything is submitted, the form says the consumer group is another topic's.
    await errorFor('source.consumerGroup').waitFor();
    await expect(errorFor('source.consumerGroup').textContent()).resolves.toMatch(
      /^topic "clicks" already reads event hub "clicks" with consumer group "\$Default"/,
    );
    await page.fill(field('source.consumerGroup'), 'hubcap-clicks-2');
    await errorFor('source.consumerGroup').waitFor({ state: 'detached' });
    await page.fill(field('source.consumerGroup'), '$Default');
    await errorFor('source.consumerGroup').waitFor();
    await page.fill(field('destination.account.connectionString'), azurite.connectionString);
    await page.fill(field('destination.container'), 'lake');
    await page.click('button:has-text("Create topic")');
    await expect(errorFor('topic').textContent()).resolves.toBe('a topic named "clicks" already exists');
    expect(await db.prisma.topic.count()).toBe(1);
    await page.goto('/topics/clicks');
  });

  it("moves the lag chart live as the agent's reports arrive, without reloading", async () => {
    const issued = await page.evaluate(async () => {
      const res = await fetch('/api/trpc/topic.createAgentToken', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'clicks', agentName: 'e2e-agent' }),
      });
      return (await res.json()).result.data as { token: string };
    });
    const report = async (lag: number, checkpointed: number) => {
      const now = new Date().toISOString();
      const position = (sequenceNumber: number) => ({
        sequenceNumber,
        offset: String(sequenceNumber * 100),
        enqueuedTime: now,
      });
      const res = await fetch(`${web.url}/api/trpc/agent.report`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${issued.token}` },
        body: JSON.stringify({
          agentId: 'clicks-0',
          topic: 'clicks',
          agentVersion: '0.1.0',
          sentAt: now,
          startedAt: now,
          ready: true,
          partitions: ['0', '1', '2', '3'].map((partitionId) => ({
            partitionId,
            lastEnqueued: position(checkpointed + lag / 4),
            lastReceived: position(checkpointed + lag / 4),
            lastCheckpointed: position(checkpointed),
            lagEvents: lag / 4,
            lagSeconds: lag / 10,
            eventsPerSecond: 120,
            bytesPerSecond: 120_000,
          })),
          eventsPerSecond: 480,
          bytesPerSecond: 480_000,
          eventsWritten: checkpointed * 4,
          bytesWritten: checkpointed * 4000,
          filesWritten: 2,
          deadLettered: 0,
          errors: [],
          recentFiles: [
            {
              path: `clicks/0/2026/03/07/0-${checkpointed - 9}-${checkpointed}.ndjson.gz`,
              partitionId: '0',
              events: 10,
              bytes: 4096,
              firstSequenceNumber: checkpointed - 9,
              lastSequenceNumber: checkpointed,
              committedAt: now,
            },
          ],
        }),
      });
      expect(res.status).toBe(200);
    };

    // Half an hour of earlier reports, so the chart has a history to move from.
    const agent = await db.prisma.agentInstance.findFirstOrThrow({ where: { name: 'e2e-agent' } });
    await db.prisma.metricSample.createMany({
      data: Array.from({ length: 180 }, (_, i) => ({
        topicId: agent.topicId,
        agentInstanceId: agent.id,
        at: new Date(Date.now() - (180 - i) * 10_000),
        eventsPerSecond: 400 + 80 * Math.sin(i / 12),
        bytesPerSecond: 400_000 + 80_000 * Math.sin(i / 12),
        lagEvents: BigInt(Math.round(300 + 200 * Math.sin(i / 9))),
        lagSeconds: 30 + 20 * Math.sin(i / 9),
        filesWritten: 0,
        errorCount: 0,
      })),
    });
    await page.reload();
    await page.evaluate(() => {
      (window as unknown as { marker: string }).marker = 'same page';
    });
    await page.waitForFunction(
      () => Number(document.querySelector('[data-testid=chart-lag]')?.getAttribute('data-points')) > 100,
    );

    await report(400, 100);
    await page.waitForFunction(
      () => document.querySelector('[data-testid=chart-lag]')?.getAttribute('data-last') === '400',
    );
    await report(8000, 120);
    await page.waitForFunction(
      () => document.querySelector('[data-testid=chart-lag]')?.getAttribute('data-last') === '8000',
    );
    await expect(page.locator('[data-testid=partitions] [data-partition]').count()).resolves.toBe(4);
    await expect(page.locator('[data-testid=partition-lag]').first().textContent()).resolves.toBe('2,000');
    await expect(page.locator('[data-testid=recent-files]').textContent()).resolves.toContain(
      '0-111-120.ndjson.gz',
    );
    // Same document: the page never reloaded.
    await expect(page.evaluate(() => (window as unknown as { marker?: string }).marker)).resolves.toBe(
      'same page',
    );
    await shot('topic');

    // Why it is not healthy, and how the lag moves, in words.
    await expect(page.locator('[data-testid=status-reason]').textContent()).resolves.toMatch(
      /^lagging: the oldest unwritten event is 800 s old \(threshold 360 s\)$/,
    );

    await page.goto('/');
    await page.locator('[data-topic=clicks]').waitFor();
    await expect(page.locator('[data-topic=clicks]').textContent()).resolves.toContain('lagging');
    // Not deployed (its agent runs by hand): no Capture or agent cost is counted for it.
    await expect(page.locator('[data-testid=cost-assumptions]').textContent()).resolves.toMatch(
      /Assumes Capture at \$0\.10\/TU-hour/,
    );
    await shot('fleet');
  });

  it('shows schema history, a change notice with its diff, and dead letters; an editor acknowledges the change', async () => {
    const topic = await db.prisma.topic.findUniqueOrThrow({ where: { slug: 'clicks' } });
    const { token } = await issueAgentToken(db.prisma, topic.id, 'e2e-parquet');
    const v1 = [
      { path: 'requestId', type: 'VARCHAR' },
      { path: 'amount', type: 'BIGINT' },
    ];
    const v2 = [...v1.slice(0, 1), { path: 'amount', type: 'DOUBLE' }, { path: 'country', type: 'VARCHAR' }];
    const send = async (schema: { fields: typeof v1; print: string; at: string }) => {
      const now = new Date().toISOString();
      const res = await fetch(`${web.url}/api/trpc/agent.report`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({
          agentId: 'clicks-parquet-0',
          topic: 'clicks',
          agentVersion: '0.1.0',
          sentAt: now,
          startedAt: '2026-11-24T13:00:00.000Z',
          ready: true,
          partitions: [],
          eventsPerSecond: 0,
          bytesPerSecond: 0,
          eventsWritten: 0,
          bytesWritten: 0,
          filesWritten: 0,
          deadLettered: 3,
          deadLetteredByReason: { 'not-json': 2, 'too-large': 1 },
          errors: [],
          schemaVersions: [
            {
              fingerprint: schema.print,
              fields: schema.fields,
              firstSeenAt: schema.at,
              path: `clicks/0/${schema.print.slice(-4)}.parquet`,
              partitionId: '0',
            },
          ],
        }),
      });
      expect(res.status).toBe(200);
    };
    await send({ fields: v1, print: 'a'.repeat(32), at: '2026-11-24T13:01:00.000Z' });
    await send({ fields: v2, print: 'b'.repeat(32), at: '2026-11-24T13:02:00.000Z' });

    await page.goto('/topics/clicks');
    const notice = page.locator('[data-testid=schema-notice]');
    await notice.waitFor();
    await expect(notice.textContent()).resolves.toMatch(/Schema v2 since .*1 field added, 1 widened/);
    await expect(page.locator('[data-testid=schema-history] [data-version]').count()).resolves.toBe(2);
    await expect(page.locator('[data-testid=dead-letter-total]').textContent()).resolves.toBe('3');
    await expect(page.locator('[data-testid=dead-letters]').textContent()).resolves.toContain('_deadletter/');

    await notice.locator('button:has-text("Show changes")').click();
    const diff = page.locator('[data-testid=schema-diff]');
    await diff.waitFor();
    await expect(diff.textContent()).resolves.toContain('+ country VARCHAR');
    await expect(diff.textContent()).resolves.toContain('amount BIGINT → DOUBLE (widened');
    await page.locator('[data-version="2"] button:has-text("fields")').click();
    await expect(page.locator('[data-testid=schema-fields]').textContent()).resolves.toContain('country');
    await page
      .locator('[data-testid=schema-history]')
      .evaluate((el) => (el.closest('section') ?? el).scrollIntoView({ block: 'start' }));
    await shot('schema');

    await notice.locator('button:has-text("Acknowledge")').click();
    await notice.waitFor({ state: 'detached' });
    const row = await db.prisma.topicSchemaVersion.findFirstOrThrow({ where: { version: 2 } });
    expect(row.acknowledgedAt).not.toBeNull();
  });

  it('edits a topic with every secret blank: kept, never shown, and a kind switched back starts blank', async () => {
    await page.goto('/topics/clicks/edit');
    for (const { path } of SECRET_FIELDS) {
      await expect(page.inputValue(field(path))).resolves.toBe('');
      await expect(page.getAttribute(field(path), 'placeholder')).resolves.toMatch(/stored/);
    }
    await expect(page.locator('[data-testid=derived-namespace]').textContent()).resolves.toMatch(
      /^127\.0\.0\.1/,
    );
    await page.selectOption(field('source.auth.kind'), 'workloadIdentity');
    // count() does not wait for React to render the switched kind.
    await page.locator(field('source.auth.connectionString')).waitFor({ state: 'detached', timeout: 5000 });
    await expect(page.locator(field('source.auth.connectionString')).count()).resolves.toBe(0);
    await expect(page.inputValue(field('source.fullyQualifiedNamespace'))).resolves.toMatch(/^127\.0\.0\.1/);
    await page.selectOption(field('source.auth.kind'), 'connectionString');
    await expect(page.inputValue(field('source.auth.connectionString'))).resolves.toBe('');

    await page.fill(field('batching.maxEvents'), '5000');
    await page.click('button:has-text("Save new version")');
    const saved = page.locator('[data-testid=saved]');
    await saved.waitFor();
    await expect(saved.textContent()).resolves.toContain('Saved as version 2.');
    await expect(page.locator('[data-testid=config-diff] li').allTextContents()).resolves.toEqual([
      'batching.maxEvents: 1000000 → 5000',
    ]);
    expect(await db.prisma.secret.count({ where: { topic: { slug: 'clicks' } } })).toBe(SECRET_FIELDS.length);
    expect(await page.content()).not.toContain('SharedAccessKey=');
  });

  it('deletes a topic after a confirmation that says what stays, only once its agent is removed; the audit log shows it', async () => {
    const created = await page.evaluate(
      async (config) => {
        const res = await fetch('/api/trpc/topic.create', {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ config }),
        });
        return res.status;
      },
      localTopicInput('doomed', {
        hub: 'clicks',
        consumerGroup: 'doomed',
        eventHubs: hubs.connectionString(),
        storage: azurite.connectionString,
      }),
    );
    expect(created).toBe(200);
    const topic = await db.prisma.topic.findUniqueOrThrow({ where: { slug: 'doomed' } });
    const deployment = await db.prisma.deployment.create({
      data: { topicId: topic.id, target: 'local', phase: 'running', configVersion: 1, desiredReplicas: 1 },
    });
    const dialogs: string[] = [];
    const accept = (dialog: import('playwright-core').Dialog) => {
      dialogs.push(dialog.message());
      void dialog.accept();
    };
    page.on('dialog', accept);
    try {
      await page.goto('/topics/doomed');
      await page.click('button:has-text("Delete topic")');
      await expect(page.locator('[data-testid=delete-error]').textContent()).resolves.toBe(
        'the agent of "doomed" is deployed: remove it first (Remove in the Deployment panel)',
      );
      expect(dialogs[0]).toContain('Files already written stay in storage.');
      expect(await db.prisma.topic.count({ where: { slug: 'doomed' } })).toBe(1);

      await db.prisma.deployment.update({ where: { id: deployment.id }, data: { phase: 'deleted' } });
      await page.click('button:has-text("Delete topic")');
      await page.waitForURL(`${web.url}/`);
      expect(await db.prisma.topic.count({ where: { slug: 'doomed' } })).toBe(0);
    } finally {
      page.off('dialog', accept);
    }

    await page.goto('/audit');
    await page.fill('#audit-topic', 'doomed');
    await page.click('[data-testid=audit-filter] button:has-text("Filter")');
    await page.waitForURL(/\/audit\?topic=doomed$/);
    await expect(
      page
        .locator('[data-testid=audit-events] tbody tr')
        .evaluateAll((rows) => rows.map((r) => r.getAttribute('data-action'))),
    ).resolves.toEqual(['topic.delete', 'topic.create']);
    await expect(page.locator('[data-testid=audit-events]').textContent()).resolves.toContain(ADMIN.email);
    await shot('audit');
    await page.goto('/audit');
    await expect(page.locator('[data-testid=audit-events] tbody tr').count()).resolves.toBeGreaterThan(2);
  });

  it('fits every page on a 390 px phone with Sign out in reach; no hydration errors; a favicon', async () => {
    const phone = await browser.newContext({
      baseURL: web.url,
      viewport: { width: 390, height: 844 },
      storageState: await context.storageState(),
    });
    // The phone's clock is ten minutes ahead of the server's: every relative time ("12 s ago") the
    // server rendered differs from what the browser computes while hydrating.
    await phone.clock.setFixedTime(Date.now() + 10 * 60_000);
    const mobile = await phone.newPage();
    mobile.on('pageerror', (error) => pageErrors.push(`${mobile.url()} (phone): ${error.message}`));
    mobile.on('console', (message) => {
      if (message.type() === 'error') pageErrors.push(`${mobile.url()} (phone): ${message.text()}`);
    });
    try {
      const overflowing: string[] = [];
      for (const path of [
        '/',
        '/topics/clicks',
        '/topics/clicks/edit',
        '/topics/new',
        '/alerts',
        '/settings',
        '/users',
        '/audit',
      ]) {
        await mobile.goto(path);
        await mobile.waitForLoadState('networkidle');
        const width = await mobile.evaluate(() => document.documentElement.scrollWidth);
        const signOut = await mobile.locator('button:has-text("Sign out")').boundingBox();
        if (width > 390 || !signOut || signOut.x < 0 || signOut.x + signOut.width > 390)
          overflowing.push(`${path}: page ${width} px wide, Sign out at ${JSON.stringify(signOut)}`);
      }
      await mobile.goto('/topics/clicks');
      await mobile.locator('[data-testid=partitions]').waitFor();
      if (SCREENSHOTS) await mobile.screenshot({ path: join(SCREENSHOTS, 'topic-phone.png') });
      expect(overflowing).toEqual([]);
    } finally {
      await phone.close();
    }

    // Every page this suite opened hydrated without a mismatch (React error #418) or any other error.
    expect(pageErrors).toEqual([]);
    for (const icon of ['/favicon.ico', '/icon.svg']) {
      const res = await fetch(`${web.url}${icon}`);
      expect(res.status, icon).toBe(200);
      expect(res.headers.get('content-type'), icon).toMatch(/^image\//);
    }
  });

  it('lets an admin add a viewer, who cannot see edit controls', async () => {
    await page.goto('/users');
    await page.fill('input[name=email]', 'viewer@example.com');
    await page.fill('input[name=name]', 'Vera Viewer');
    await page.click('button:has-text("Add account")');
    const password = (await page.locator('[role=status] code').textContent())!;
    expect(password.length).toBeGreaterThan(10);
    await shot('users');
    await page.goto('/settings');
    await shot('settings');

    await page.click('text=Sign out');
    await page.waitForURL(/\/sign-in$/);
    // The admin-generated password works once: the viewer must choose their own before anything else.
    await page.goto('/sign-in');
    await page.fill('input[name=email]', 'viewer@example.com');
    await page.fill('input[name=password]', password);
    await page.click('button[type=submit]');
    await page.waitForURL(/\/account$/);
    await page.goto('/');
    await page.waitForURL(/\/account$/);
    await page.fill('input[name=currentPassword]', password);
    await page.fill('input[name=newPassword]', 'viewer chose this one');
    await page.click('button[type=submit]');
    await page.waitForURL(`${web.url}/`);
    await expect(page.locator('text=Onboard a topic').count()).resolves.toBe(0);
    await expect(page.locator('nav >> text=Users').count()).resolves.toBe(0);
    await page.goto('/topics/clicks');
    await page.locator('[data-testid=partitions]').waitFor();
    await expect(page.locator('[data-testid=edit-controls]').count()).resolves.toBe(0);
    await expect(page.locator('[data-testid=deploy-panel] button').count()).resolves.toBe(0);
    await page.goto('/topics/clicks/edit');
    await page.waitForURL(`${web.url}/`);
    await page.goto('/users');
    await page.waitForURL(`${web.url}/`);
    // The API refuses too, whatever the page shows.
    const status = await page.evaluate(async () => {
      const res = await fetch('/api/trpc/topic.update', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'clicks', config: {} }),
      });
      return res.status;
    });
    expect(status).toBe(403);
  });

  it('ran every page above under its Content-Security-Policy without a single violation', () => {
    expect(cspViolations).toEqual([]);
  });
});
