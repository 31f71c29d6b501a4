import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { chmod, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import type pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { quoteIdentifier, withClient, withDatabase } from '../src/connection.ts';
import { startDatabase } from '../src/embedded.ts';
import { testServerUrl } from '../src/testing.ts';

const dirs: string[] = [];

afterEach(async () => {
  for (const dir of dirs.splice(0)) {
    // A failed test may leave a server running: stop it before deleting its files.
    for (const pid of await postgresPids(dir)) process.kill(pid, 'SIGQUIT');
    await rm(dir, { recursive: true, force: true });
  }
});

async function dataDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'hubcap-embedded-'));
  await chmod(dir, 0o755); // the server runs as "postgres" when tests run as root
  dirs.push(dir);
  return dir;
}

async function query<T extends pg.QueryResultRow>(url: string, sql: string): Promise<T[]> {
  return withClient(url, async (client) => (await client.query<T>(sql)).rows);
}

/** Postmaster processes serving a data directory under `dir`. */
async function postgresPids(dir: string): Promise<number[]> {
  const { stdout } = await promisify(execFile)('ps', ['-eo', 'pid=,args=']);
  return stdout
    .split('\n')
    .filter((line) => line.includes('bin/postgres') && line.includes(`${dir}/postgres`))
    .map((line) => Number.parseInt(line, 10));
}

/** Starts the database in a child Node process and returns once it is ready. */
async function startInChild(dir: string) {
  const child = spawn(process.execPath, [join(import.meta.dirname, 'fixtures/start-database.ts'), dir], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const [line] = (await once(createInterface({ input: child.stdout! }), 'line')) as [string];
  return { child, url: (JSON.parse(line) as { url: string }).url };
}

async function killParent(child: ReturnType<typeof spawn>): Promise<void> {
  const exited = once(child, 'exit');
  child.kill('SIGKILL');
  await exited;
}

describe('startDatabase (embedded)', () => {
  it('initializes, creates and migrates the hubcap database on first start', async () => {
    const dir = await dataDir();
    const db = await startDatabase({ dataDir: dir });
    try {
      expect(db.embedded).toBe(true);
      expect(db.url).toMatch(/^postgresql:\/\/postgres:[\w-]{32}@127\.0\.0\.1:\d+\/hubcap$/);
      // The generated password is kept beside the data, readable by this user only, and required.
      const passwordFile = join(dir, 'postgres.password');
      expect((await stat(passwordFile)).mode & 0o777).toBe(0o600);
      expect(db.url).toContain(`:${await readFile(passwordFile, 'utf8')}@`);
      await expect(query(db.url.replace(/:[\w-]+@/, '@'), 'SELECT 1')).rejects.toThrow(/password/);
      await expect(query(db.url.replace(/:[\w-]+@/, ':wrong@'), 'SELECT 1')).rejects.toThrow(
        /password authentication failed/,
      );
      const migrations = await query<{ migration_name: string }>(
        db.url,
        'SELECT migration_name FROM _prisma_migrations WHERE finished_at IS NOT NULL',
      );
      expect(migrations.map((row) => row.migration_name)).toContainEqual(expect.stringMatching(/_init$/));
      expect((await stat(join(dir, 'postgres', 'PG_VERSION'))).isFile()).toBe(true);
    } finally {
      await db.stop();
    }
  });

  it('requires a password on a cluster created when it trusted every local connection', async () => {
    const dir = await dataDir();
    await (await startDatabase({ dataDir: dir })).stop();
    // What older versions left: trust rules and no password file.
    const hba = join(dir, 'postgres', 'pg_hba.conf');
    await writeFile(hba, (await readFile(hba, 'utf8')).replaceAll('scram-sha-256', 'trust'));
    await rm(join(dir, 'postgres.password'));
    const db = await startDatabase({ dataDir: dir });
    try {
      expect(await query(db.url, 'SELECT 1 AS one')).toEqual([{ one: 1 }]);
      await expect(query(db.url.replace(/:[\w-]+@/, '@'), 'SELECT 1')).rejects.toThrow(/password/);
    } finally {
      await db.stop();
    }
  });

  it('keeps data and the port across a restart', async () => {
    const dir = await dataDir();
    const first = await startDatabase({ dataDir: dir });
    await query(
      first.url,
      `INSERT INTO "Topic" (id, slug, "displayName", "updatedAt") VALUES ('t1', 'kept', 'Kept', now())`,
    );
    await first.stop();

    const second = await startDatabase({ dataDir: dir });
    try {
      expect(second.url).toBe(first.url);
      expect(await query(second.url, 'SELECT slug FROM "Topic"')).toEqual([{ slug: 'kept' }]);
    } finally {
      await second.stop();
    }
  });

  it('recovers after its owner process is killed with -9', async () => {
    const dir = await dataDir();
    const { child, url } = await startInChild(dir);
    await query(
      url,
      `INSERT INTO "Topic" (id, slug, "displayName", "updatedAt") VALUES ('t1', 'survivor', 'S', now())`,
    );
    const orphans = await postgresPids(dir);
    await killParent(child);
    expect(await postgresPids(dir)).toEqual(orphans); // the server outlives its owner

    const db = await startDatabase({ dataDir: dir });
    try {
      expect(await query(db.url, 'SELECT slug FROM "Topic"')).toEqual([{ slug: 'survivor' }]);
      expect(await postgresPids(dir)).not.toContain(orphans[0]);
    } finally {
      await db.stop();
    }
  });

  it('starts over a stale postmaster.pid when the server died too', async () => {
    const dir = await dataDir();
    const { child, url } = await startInChild(dir);
    await query(
      url,
      `INSERT INTO "Topic" (id, slug, "displayName", "updatedAt") VALUES ('t1', 'crashed', 'C', now())`,
    );
    await killParent(child);
    for (const pid of await postgresPids(dir)) process.kill(pid, 'SIGKILL');
    await expect(stat(join(dir, 'postgres', 'postmaster.pid'))).resolves.toBeTruthy();

    const db = await startDatabase({ dataDir: dir });
    try {
      expect(await query(db.url, 'SELECT slug FROM "Topic"')).toEqual([{ slug: 'crashed' }]);
    } finally {
      await db.stop();
    }
  });

  it('leaves no postgres process after stop, and stop is idempotent', async () => {
    const dir = await dataDir();
    const db = await startDatabase({ dataDir: dir });
    expect(await postgresPids(dir)).toHaveLength(1);
    await Promise.all([db.stop(), db.stop()]);
    expect(await postgresPids(dir)).toEqual([]);
  });
});

describe('startDatabase (DATABASE_URL)', () => {
  it('migrates the given database and does not start a server', async () => {
    const server = testServerUrl();
    const name = `hubcap_ext_${process.pid}_${Date.now()}`;
    const url = withDatabase(server, name);
    const dir = await dataDir();
    try {
      const db = await startDatabase({ dataDir: dir, databaseUrl: url });
      expect(db).toMatchObject({ url, embedded: false });
      expect(await query(url, 'SELECT count(*)::int AS n FROM "User"')).toEqual([{ n: 0 }]);
      await db.stop();
      await expect(stat(join(dir, 'postgres'))).rejects.toThrow();
    } finally {
      await query(server, `DROP DATABASE IF EXISTS ${quoteIdentifier(name)} WITH (FORCE)`);
    }
  });
});
