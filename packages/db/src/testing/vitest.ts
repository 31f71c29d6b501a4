/**
 * Vitest settings for a package whose tests use per-test databases: one embedded PostgreSQL for the
 * run unless TEST_DATABASE_URL or DATABASE_URL is set. Starting servers and migrating takes seconds on
 * a busy 2-core machine, hence the timeouts.
 */
export const databaseTests = {
  include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
  globalSetup: ['@hubcap/db/testing/global-setup'],
  testTimeout: 30_000,
  hookTimeout: 60_000,
};
