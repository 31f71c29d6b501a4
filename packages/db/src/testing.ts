// Per-test PostgreSQL databases copied from a migrated template (≈0.2 s each), on a real server
// (TEST_DATABASE_URL or DATABASE_URL) or on one embedded server shared by a whole test run.
import { createHash, randomBytes } from 'node:crypto';
import { chmod, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseDatabaseUrl, quoteIdentifier, withClient, withDatabase } from './connection.ts';
import { startEmbeddedServer } from './embedded/server.ts';
import type { PrismaClient } from './index.ts';
import { createPrisma } from './index.ts';
import { defaultMigrationsDir } from './migrate/files.ts';
import { migrateDeploy } from './migrate.ts';

/** Set by the global setup for test workers: the shared embedded server (its `postgres` database). */
export const TEST_SERVER_ENV = 'HUBCAP_TEST_DATABASE_SERVER';

const TEMPLATE_PREFIX = 'hubcap_tmpl_';
// Arbitrary constant: serializes template creation across workers and concurrent runs on one server.
const TEMPLATE_LOCK = 74_201_113;

export interface TestDatabase {
  url: string;
  prisma: PrismaClient;
  /** Disconnects the client and drops the database. */
  drop(): Promise<void>;
}

export interface TestDatabaseOptions {
  /** Server to create databases on; defaults to TEST_DATABASE_URL, DATABASE_URL, then the shared embedded server. */
  serverUrl?: string;
}

/**
 * Vitest global setup (`globalSetup: ['@hubcap/db/testing/global-setup']`): without
 * TEST_DATABASE_URL or DATABASE_URL, starts one embedded PostgreSQL for the whole run in a temp
 * directory and hands its URL to workers through the environment. Builds the template once.
 * Returns the teardown, which stops the server and deletes its directory.
 */
export async function setupTestDatabaseServer(): Promise<() => Promise<void>> {
  const external = externalServerUrl();
  if (external) {
    await ensureTemplate(external);
    return async () => {};
  }
  const dir = await mkdtemp(join(tmpdir(), 'hubcap-test-pg-'));
  // When tests run as root the server runs as "postgres", which must be able to enter the directory.
  await chmod(dir, 0o755);
  // Durability is pointless for throwaway data and makes initdb, CREATE DATABASE and commits much faster.
  const server = await startEmbeddedServer(join(dir, 'postgres'), { ephemeral: true }).catch(
    async (error: unknown) => {
      await rm(dir, { recursive: true, force: true });
      throw error;
    },
  );
  const teardown = async () => {
    await server.stop();
    await rm(dir, { recursive: true, force: true });
    delete process.env[TEST_SERVER_ENV];
  };
  try {
    process.env[TEST_SERVER_ENV] = server.url('postgres');
    await ensureTemplate(server.url('postgres'));
  } catch (error) {
    await teardown();
    throw error;
  }
  return teardown;
}

/** A fresh, migrated database of its own; call `drop()` when done (e.g. in afterEach/afterAll). */
export async function createTestDatabase(options: TestDatabaseOptions = {}): Promise<TestDatabase> {
  const serverUrl = options.serverUrl ?? testServerUrl();
  const template = await ensureTemplate(serverUrl);
  const name = `t_${randomBytes(6).toString('hex')}`;
  await withClient(serverUrl, (client) =>
    client.query(`CREATE DATABASE ${quoteIdentifier(name)} TEMPLATE ${quoteIdentifier(template)}`),
  );
  const url = withDatabase(serverUrl, name);
  const prisma = createPrisma(url, { max: 2 });
  let dropped: Promise<void> | undefined;
  const drop = () => {
    dropped ??= (async () => {
      await prisma.$disconnect();
      await withClient(serverUrl, (client) =>
        client.query(`DROP DATABASE IF EXISTS ${quoteIdentifier(name)} WITH (FORCE)`),
      );
    })();
    return dropped;
  };
  return { url, prisma, drop };
}

/** URL of the server tests create databases on (its maintenance database). */
export function testServerUrl(): string {
  const url = externalServerUrl() ?? process.env[TEST_SERVER_ENV];
  if (!url) {
    throw new Error(
      'No test database server: add @hubcap/db/testing/global-setup to the vitest globalSetup, or set TEST_DATABASE_URL',
    );
  }
  return url;
}

function externalServerUrl(): string | undefined {
  const url = process.env.TEST_DATABASE_URL || process.env.DATABASE_URL || undefined;
  if (url) parseDatabaseUrl(url);
  return url;
}

const templates = new Map<string, Promise<string>>();

/** Name of the migrated template on this server, building it first if needed (once per process). */
export function ensureTemplate(serverUrl: string): Promise<string> {
  let template = templates.get(serverUrl);
  if (!template) {
    template = buildTemplate(serverUrl);
    templates.set(serverUrl, template);
    template.catch(() => templates.delete(serverUrl));
  }
  return template;
}

/**
 * Templates are named after a hash of the migrations, so a run reuses the one built by a
 * previous run with the same migrations. A template counts as complete only once it is marked
 * IS_TEMPLATE, which happens after migrating; a half-built one is dropped and rebuilt.
 */
async function buildTemplate(serverUrl: string): Promise<string> {
  const name = `${TEMPLATE_PREFIX}${await migrationsHash()}`;
  await withClient(serverUrl, async (client) => {
    await client.query('SELECT pg_advisory_lock($1)', [TEMPLATE_LOCK]);
    try {
      const { rows } = await client.query<{ datistemplate: boolean }>(
        'SELECT datistemplate FROM pg_database WHERE datname = $1',
        [name],
      );
      if (rows[0]?.datistemplate) return;
      await client.query(`DROP DATABASE IF EXISTS ${quoteIdentifier(name)} WITH (FORCE)`);
      await migrateDeploy(withDatabase(serverUrl, name));
      await client.query(`ALTER DATABASE ${quoteIdentifier(name)} WITH IS_TEMPLATE true`);
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [TEMPLATE_LOCK]);
    }
  });
  return name;
}

async function migrationsHash(): Promise<string> {
  const hash = createHash('sha256');
  const entries = await readdir(defaultMigrationsDir, { withFileTypes: true });
  const names = entries.filter((entry) => entry.isDirectory()).map((entry) => entry.name);
  for (const name of names.sort()) {
    hash.update(name);
    hash.update(await readFile(join(defaultMigrationsDir, name, 'migration.sql')));
  }
  return hash.digest('hex').slice(0, 16);
}
