import { cp, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { quoteIdentifier, withClient, withDatabase } from '../src/connection.ts';
import { defaultMigrationsDir, defaultSchemaPath } from '../src/migrate/files.ts';
import { migrateDeploy, migrateDev } from '../src/migrate.ts';
import { testServerUrl } from '../src/testing.ts';

const cleanups: (() => Promise<unknown>)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function run<T extends pg.QueryResultRow>(url: string, sql: string): Promise<T[]> {
  return withClient(url, async (client) => (await client.query<T>(sql)).rows);
}

/** A database name that does not exist yet; dropped after the test. */
function freshDatabase(): string {
  const server = testServerUrl();
  const name = `hubcap_mig_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
  cleanups.push(() => run(server, `DROP DATABASE IF EXISTS ${quoteIdentifier(name)} WITH (FORCE)`));
  return withDatabase(server, name);
}

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'hubcap-migrations-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

describe('migrateDeploy', () => {
  it('creates the database, applies pending migrations once and records them like Prisma', async () => {
    const url = freshDatabase();
    const first = await migrateDeploy(url);
    expect(first.applied).toEqual(
      (await readdir(defaultMigrationsDir)).filter((name) => name !== 'migration_lock.toml'),
    );
    expect((await migrateDeploy(url)).applied).toEqual([]);

    const [row] = await run<{ checksum: string; applied_steps_count: number }>(
      url,
      'SELECT checksum, applied_steps_count FROM _prisma_migrations ORDER BY started_at LIMIT 1',
    );
    const script = await readFile(join(defaultMigrationsDir, first.applied[0]!, 'migration.sql'));
    const { createHash } = await import('node:crypto');
    expect(row).toEqual({
      checksum: createHash('sha256').update(script).digest('hex'),
      applied_steps_count: 1,
    });
  });

  it('reports a broken migration in one line and applies none of it', async () => {
    const url = freshDatabase();
    const dir = await tempDir();
    await cp(join(import.meta.dirname, 'fixtures/broken-migration'), dir, { recursive: true });
    const error = await migrateDeploy(url, { migrationsDir: dir }).catch((caught: Error) => caught);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toBe(
      'Error querying the database: ERROR: type "no_such_type" does not exist (migration 20200101000000_broken)',
    );
    expect(await run(url, "SELECT to_regclass('half_done') AS t")).toEqual([{ t: null }]);
  });

  it('turns an unreachable server into one clear line', async () => {
    await expect(migrateDeploy('postgresql://postgres:pw@127.0.0.1:1/x')).rejects.toThrow(
      /^Cannot connect to PostgreSQL at 127\.0\.0\.1:1: connection refused/,
    );
  });
});

describe('migrateDev', () => {
  it('writes an init migration giving the same schema as the committed ones, then finds nothing to do', async () => {
    const url = freshDatabase();
    const dir = await tempDir();
    const created = await migrateDev(url, 'init', { migrationsDir: dir, schemaPath: defaultSchemaPath });
    expect(created.created).toMatch(/^\d{14}_init$/);
    expect(created.applied).toEqual([created.created]);

    // Later migrations add columns at the end of tables, so compare the catalog rather than SQL text.
    const committed = freshDatabase();
    await migrateDeploy(committed);
    const catalog = async (db: string) =>
      JSON.stringify(
        await run(
          db,
          `SELECT table_name, column_name, data_type, is_nullable, column_default FROM information_schema.columns
           WHERE table_schema = 'public' AND table_name <> '_prisma_migrations'
           UNION ALL SELECT tablename, indexname, indexdef, '', '' FROM pg_indexes WHERE schemaname = 'public'
           ORDER BY 1, 2`,
        ),
      );
    expect(await catalog(url)).toBe(await catalog(committed));
    expect(await readFile(join(dir, 'migration_lock.toml'), 'utf8')).toContain('provider = "postgresql"');

    expect(await migrateDev(url, 'again', { migrationsDir: dir })).toEqual({ applied: [] });
  });

  it('diffs a schema change against the existing migrations, on a database that had none applied', async () => {
    const url = freshDatabase();
    const dir = await tempDir();
    const migrationsDir = join(dir, 'migrations');
    await cp(defaultMigrationsDir, migrationsDir, { recursive: true });
    const committed = (await readdir(defaultMigrationsDir)).filter((name) => name !== 'migration_lock.toml');

    // Unchanged schema: the committed migrations are applied and none is written.
    expect(await migrateDev(url, 'nothing', { migrationsDir })).toEqual({ applied: committed });
    expect(await readdir(migrationsDir)).toEqual(await readdir(defaultMigrationsDir));

    const schemaPath = join(dir, 'schema.prisma');
    const schema = await readFile(defaultSchemaPath, 'utf8');
    const changed = schema.replace(
      /^model User \{\n/m,
      'model Note {\n  id   String @id\n  body String\n}\n\nmodel User {\n  nickname String?\n',
    );
    expect(changed).not.toBe(schema);
    await writeFile(schemaPath, changed);

    const result = await migrateDev(url, 'add_note', { migrationsDir, schemaPath });
    expect(result.created).toMatch(/^\d{14}_add_note$/);
    expect(result.applied).toEqual([result.created]);
    const sql = await readFile(join(migrationsDir, result.created!, 'migration.sql'), 'utf8');
    expect(sql).toContain('ALTER TABLE "User" ADD COLUMN     "nickname" TEXT;');
    expect(sql).toContain('CREATE TABLE "Note"');
    expect(sql).not.toMatch(/DROP|CREATE TABLE "User"/);

    // The new SQL applies cleanly on top of the committed history, on a database of its own too.
    expect((await migrateDeploy(freshDatabase(), { migrationsDir, schemaPath })).applied).toEqual([
      ...committed,
      result.created,
    ]);
    expect(
      await run(
        url,
        `SELECT column_name FROM information_schema.columns WHERE table_name = 'User' AND column_name = 'nickname'`,
      ),
    ).toEqual([{ column_name: 'nickname' }]);

    // Nothing changed since: no migration.
    expect(await migrateDev(url, 'again', { migrationsDir, schemaPath })).toEqual({ applied: [] });
    expect((await readdir(migrationsDir)).length).toBe(committed.length + 2);
  });

  it('rejects a migration name that is not a plain identifier', async () => {
    await expect(migrateDev(freshDatabase(), 'add users!')).rejects.toThrow(
      'letters, digits and underscores',
    );
  });
});
