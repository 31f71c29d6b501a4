import { randomUUID } from 'node:crypto';
import { PrismaPg } from '@prisma/adapter-pg';
import type {
  SqlDriverAdapter,
  SqlMigrationAwareDriverAdapterFactory,
  SqlQuery,
  Transaction,
} from '@prisma/driver-adapter-utils';
import type pg from 'pg';
import { quoteIdentifier, withClient, withDatabase } from '../connection.ts';

// PostgreSQL's one-byte catalog type "char" (pg_class.relkind, pg_constraint.contype, …).
const CHAR_OID = 18;
const TEXT_OID = 25;

/** The schema engine only needs a couple of connections per database. */
const POOL_MAX = 2;

/** The non-public hook of adapter-pg every query goes through. */
type WithPerformIO = { performIO(query: SqlQuery): Promise<pg.QueryResult> };

/**
 * A driver-adapter factory for the wasm schema engine, fixing two adapter-pg gaps:
 * the catalog type "char" cannot be deserialized, and its shadow database is dropped
 * while its own pool is still connected. `close()` ends every pool still open.
 */
export function createMigrationAdapterFactory(
  databaseUrl: string,
): SqlMigrationAwareDriverAdapterFactory & { close(): Promise<void> } {
  const open = new Set<SqlDriverAdapter>();
  const track = (adapter: SqlDriverAdapter): SqlDriverAdapter => {
    const dispose = adapter.dispose.bind(adapter);
    let disposed: Promise<void> | undefined;
    adapter.dispose = () => {
      open.delete(adapter);
      disposed ??= dispose();
      return disposed;
    };
    open.add(adapter);
    return adapter;
  };
  return {
    provider: 'postgres',
    adapterName: '@prisma/adapter-pg',
    connect: async () => track(await connect(databaseUrl)),
    connectToShadowDb: async () => track(await connectToShadowDb(databaseUrl)),
    close: async () => {
      await Promise.all([...open].map((adapter) => adapter.dispose()));
    },
  };
}

async function connect(databaseUrl: string): Promise<SqlDriverAdapter> {
  const factory = new PrismaPg({ connectionString: databaseUrl, max: POOL_MAX });
  const adapter = await factory.connect();
  patchQueryable(adapter);
  const startTransaction = adapter.startTransaction.bind(adapter);
  adapter.startTransaction = async (isolationLevel) => patchQueryable(await startTransaction(isolationLevel));
  adapter.executeScript = (script) => executeScript(adapter, script);
  return adapter;
}

/** Reports "char" columns as text (their values already arrive as one-character strings). */
function patchQueryable<T extends SqlDriverAdapter | Transaction>(queryable: T): T {
  const target = queryable as unknown as WithPerformIO;
  const performIO = target.performIO.bind(target);
  target.performIO = async (query) => {
    const result = await performIO(query);
    for (const field of result.fields) {
      if (field.dataTypeID === CHAR_OID) field.dataTypeID = TEXT_OID;
    }
    return result;
  };
  return queryable;
}

/**
 * adapter-pg splits scripts on ";", which breaks on a semicolon inside a string or a function
 * body. Sending the script as one simple query matches the native engine: PostgreSQL runs all
 * its statements in one implicit transaction.
 */
async function executeScript(adapter: SqlDriverAdapter, script: string): Promise<void> {
  const pool = (adapter as unknown as { underlyingDriver(): pg.Pool }).underlyingDriver();
  try {
    await pool.query(script);
  } catch (error) {
    (adapter as unknown as { onError(error: unknown): never }).onError(error);
  }
}

/** A throwaway database on the same server, force-dropped after its pool is closed. */
async function connectToShadowDb(databaseUrl: string): Promise<SqlDriverAdapter> {
  const name = `prisma_migrate_shadow_db_${randomUUID().replaceAll('-', '')}`;
  await withClient(databaseUrl, (client) => client.query(`CREATE DATABASE ${quoteIdentifier(name)}`));
  const adapter = await connect(withDatabase(databaseUrl, name));
  const dispose = adapter.dispose.bind(adapter);
  adapter.dispose = async () => {
    await dispose();
    await withClient(databaseUrl, (client) =>
      client.query(`DROP DATABASE IF EXISTS ${quoteIdentifier(name)} WITH (FORCE)`),
    );
  };
  return adapter;
}
