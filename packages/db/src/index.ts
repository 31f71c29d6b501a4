import { PrismaPg } from '@prisma/adapter-pg';
import { parseDatabaseUrl } from './connection.ts';
import { PrismaClient } from './generated/prisma/client.ts';

export { redactUrl } from './connection.ts';
// Migrations are exported from `@hubcap/db/migrate`, so apps that only query never bundle the engine.
// The generated client (PrismaClient, Prisma namespace, enums, model types) is only ever imported from here.
export * from './generated/prisma/client.ts';

export interface CreatePrismaOptions {
  /** Pool size per process; several processes share one server, so keep it modest. Default 5. */
  max?: number;
}

/** A Prisma client over node-postgres. Call `$disconnect()` on shutdown to close the pool. */
export function createPrisma(databaseUrl: string, options: CreatePrismaOptions = {}): PrismaClient {
  parseDatabaseUrl(databaseUrl);
  const adapter = new PrismaPg({
    connectionString: databaseUrl,
    max: options.max ?? 5,
    connectionTimeoutMillis: 5_000,
  });
  return new PrismaClient({ adapter });
}
