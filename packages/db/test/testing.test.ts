import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { createTestDatabase, ensureTemplate, type TestDatabase, testServerUrl } from '../src/testing.ts';

const created: TestDatabase[] = [];

afterEach(async () => {
  await Promise.all(created.splice(0).map((db) => db.drop()));
});

async function testDatabase(): Promise<TestDatabase> {
  const db = await createTestDatabase();
  created.push(db);
  return db;
}

async function databases(pattern: string): Promise<string[]> {
  const client = new pg.Client(testServerUrl());
  await client.connect();
  try {
    const { rows } = await client.query<{ datname: string }>(
      'SELECT datname FROM pg_database WHERE datname LIKE $1',
      [pattern],
    );
    return rows.map((row) => row.datname);
  } finally {
    await client.end();
  }
}

describe('createTestDatabase', () => {
  it('gives each test its own migrated database', async () => {
    const [a, b] = await Promise.all([testDatabase(), testDatabase()]);
    expect(a.url).not.toBe(b.url);
    await a.prisma.topic.create({ data: { slug: 'only-in-a', displayName: 'A' } });
    expect(await a.prisma.topic.count()).toBe(1);
    expect(await b.prisma.topic.count()).toBe(0);
  });

  it('copies every database from one reused template', async () => {
    const template = await ensureTemplate(testServerUrl());
    expect(template).toMatch(/^hubcap_tmpl_[0-9a-f]{16}$/);
    const started = performance.now();
    await testDatabase();
    const copyMs = performance.now() - started;
    await testDatabase();
    expect(await ensureTemplate(testServerUrl())).toBe(template);
    expect(await databases(template)).toEqual([template]);
    expect(copyMs).toBeLessThan(5_000);
  });

  it('drops the database, even when called twice', async () => {
    const db = await createTestDatabase();
    const name = new URL(db.url).pathname.slice(1);
    expect(await databases(name)).toEqual([name]);
    await Promise.all([db.drop(), db.drop()]);
    expect(await databases(name)).toEqual([]);
  });
});
