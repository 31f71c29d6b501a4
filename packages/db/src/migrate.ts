import type { SchemaFilter } from '@prisma/schema-engine-wasm';
import { ensureDatabase, parseDatabaseUrl } from './connection.ts';
import { createMigrationAdapterFactory } from './migrate/adapter.ts';
import { withSchemaEngine } from './migrate/engine.ts';
import {
  defaultMigrationsDir,
  defaultSchemaPath,
  readMigrations,
  readSchema,
  writeMigration,
} from './migrate/files.ts';

export interface MigrateOptions {
  /** Defaults to this package's prisma/schema.prisma. */
  schemaPath?: string;
  /** Defaults to this package's prisma/migrations. */
  migrationsDir?: string;
}

export interface MigrateDevOptions extends MigrateOptions {
  /** Create and apply a migration even when it drops columns or tables that hold data. */
  acceptDataLoss?: boolean;
}

export interface MigrateResult {
  /** Migrations applied by this run, oldest first. */
  applied: string[];
  /** Directory name of the migration `migrateDev` created, if the schema had changed. */
  created?: string;
}

const noFilter: SchemaFilter = { externalTables: [], externalEnums: [] };

/**
 * Applies pending migrations, recording them in `_prisma_migrations` exactly like
 * `prisma migrate deploy`. Creates the database when it does not exist.
 */
export async function migrateDeploy(
  databaseUrl: string,
  options: MigrateOptions = {},
): Promise<MigrateResult> {
  const { schemaPath = defaultSchemaPath, migrationsDir = defaultMigrationsDir } = options;
  parseDatabaseUrl(databaseUrl);
  await ensureDatabase(databaseUrl);
  const schema = await readSchema(schemaPath);
  return withEngine(databaseUrl, schema, async (engine) => {
    const migrationsList = await readMigrations(migrationsDir);
    const { appliedMigrationNames } = await engine.applyMigrations({ migrationsList, filters: noFilter });
    return { applied: appliedMigrationNames };
  });
}

/**
 * The `prisma migrate dev` flow without prompts: apply pending migrations, diff the schema
 * against the migration history (replayed on a shadow database), write
 * `<migrationsDir>/<timestamp>_<name>/migration.sql` and apply it.
 */
export async function migrateDev(
  databaseUrl: string,
  name: string,
  options: MigrateDevOptions = {},
): Promise<MigrateResult> {
  const { schemaPath = defaultSchemaPath, migrationsDir = defaultMigrationsDir } = options;
  if (!/^[a-z0-9_]+$/i.test(name)) {
    throw new Error(`Migration name "${name}" must use only letters, digits and underscores`);
  }
  parseDatabaseUrl(databaseUrl);
  await ensureDatabase(databaseUrl);
  const schema = await readSchema(schemaPath);
  const schemas = { files: [schema] };
  return withEngine(databaseUrl, schema, async (engine) => {
    let migrationsList = await readMigrations(migrationsDir);
    // The engine expects this check first; it is what detects drift and edited migrations.
    const { action } = await engine.devDiagnostic({ migrationsList, filters: noFilter });
    if (action.tag === 'reset') {
      throw new Error(`The database must be reset before migrating: ${action.reason.trim()}`);
    }
    const applied = (await engine.applyMigrations({ migrationsList, filters: noFilter }))
      .appliedMigrationNames;
    // evaluateDataLoss and createMigration cannot open a shadow database themselves: they read the
    // schema of the migration history from a cache that only devDiagnostic fills (through the
    // adapter's shadow database), and it does so only when the database has applied migrations.
    // Whenever this call applied some, the first diagnostic either skipped it (a database that had
    // none) or saw the history without them, so run it again now.
    if (applied.length > 0) await engine.devDiagnostic({ migrationsList, filters: noFilter });

    const loss = await engine.evaluateDataLoss({ migrationsList, schema: schemas, filters: noFilter });
    const blockers = loss.unexecutableSteps.map((step) => step.message);
    if (!options.acceptDataLoss) blockers.push(...loss.warnings.map((step) => step.message));
    if (blockers.length > 0) {
      throw new Error(`The new migration would lose data: ${blockers.join(' ')}`);
    }
    if (loss.migrationSteps === 0) return { applied };

    const migration = await engine.createMigration({
      draft: false,
      migrationName: name,
      migrationsList,
      schema: schemas,
      filters: noFilter,
    });
    if (migration.migrationScript === null) return { applied };
    await writeMigration(
      migrationsDir,
      migration.generatedMigrationName,
      migration.migrationScript,
      migration.connectorType,
    );

    migrationsList = await readMigrations(migrationsDir);
    const { appliedMigrationNames } = await engine.applyMigrations({ migrationsList, filters: noFilter });
    return { applied: [...applied, ...appliedMigrationNames], created: migration.generatedMigrationName };
  });
}

async function withEngine<T>(
  databaseUrl: string,
  schema: Awaited<ReturnType<typeof readSchema>>,
  fn: Parameters<typeof withSchemaEngine<T>>[2],
): Promise<T> {
  const factory = createMigrationAdapterFactory(databaseUrl);
  try {
    return await withSchemaEngine(schema, factory, fn);
  } finally {
    await factory.close();
  }
}
