import { join } from 'node:path';
import { startEmbeddedServer } from './embedded/server.ts';
import { migrateDeploy } from './migrate.ts';

export interface StartDatabaseOptions {
  /** Hubcap's data directory; the embedded cluster lives in `<dataDir>/postgres`. */
  dataDir: string;
  /** An external server to use instead (the caller reads DATABASE_URL); it is migrated, not started. */
  databaseUrl?: string;
}

export interface Database {
  url: string;
  /** Stops the embedded server; a no-op for an external one. Idempotent. */
  stop(): Promise<void>;
  embedded: boolean;
}

const DATABASE = 'hubcap';

/**
 * The database Hubcap runs on, migrated to the latest schema: `databaseUrl` when given,
 * otherwise an embedded PostgreSQL that keeps its data in `<dataDir>/postgres` across
 * restarts and recovers from a previous process killed without stopping it.
 */
export async function startDatabase(options: StartDatabaseOptions): Promise<Database> {
  if (options.databaseUrl) {
    await migrateDeploy(options.databaseUrl);
    return { url: options.databaseUrl, embedded: false, stop: async () => {} };
  }
  const server = await startEmbeddedServer(join(options.dataDir, 'postgres'));
  const url = server.url(DATABASE);
  try {
    await migrateDeploy(url);
  } catch (error) {
    await server.stop().catch(() => {});
    throw error;
  }
  return { url, embedded: true, stop: server.stop };
}
