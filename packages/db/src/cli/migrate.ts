// `npm run db:migrate -- --name <name>` and `npm run db:deploy` (at the root or in packages/db): migrations against DATABASE_URL or, when
// it is unset, the embedded PostgreSQL in HUBCAP_DATA_DIR (default: <repo>/.hubcap).
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { redactUrl } from '../connection.ts';
import { startDatabase } from '../embedded.ts';
import { migrateDeploy, migrateDev } from '../migrate.ts';

const usage = 'usage: migrate.ts dev --name <name> [--accept-data-loss] | migrate.ts deploy';

async function main(): Promise<void> {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: { name: { type: 'string', short: 'n' }, 'accept-data-loss': { type: 'boolean' } },
  });
  const command = positionals[0];
  if (command !== 'dev' && command !== 'deploy') throw new Error(usage);
  const name = values.name;
  if (command === 'dev' && !name) throw new Error(`migrate dev needs --name <name> (${usage})`);

  const databaseUrl = process.env.DATABASE_URL || undefined;
  const dataDir =
    process.env.HUBCAP_DATA_DIR || fileURLToPath(new URL('../../../../.hubcap', import.meta.url));
  if (databaseUrl) {
    console.log(`Database: ${redactUrl(databaseUrl)}`);
  }
  // For the embedded server this also applies pending migrations, like `deploy` would.
  const db = databaseUrl ? undefined : await startDatabase({ dataDir });
  if (db) console.log(`Database: ${db.url} (embedded, ${dataDir})`);
  const url = db?.url ?? databaseUrl!;
  try {
    const result = name
      ? await migrateDev(url, name, { acceptDataLoss: values['accept-data-loss'] })
      : await migrateDeploy(url);
    for (const applied of result.applied) console.log(`Applied ${applied}`);
    if (command === 'dev') {
      console.log(
        result.created ? `Created prisma/migrations/${result.created}` : 'Schema unchanged: no migration',
      );
    }
    console.log('Database is up to date');
  } finally {
    await db?.stop();
  }
}

main().catch((error: unknown) => {
  console.error(`migrate: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
});
