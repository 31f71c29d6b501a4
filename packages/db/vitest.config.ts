import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    // One embedded PostgreSQL for the run unless TEST_DATABASE_URL or DATABASE_URL is set.
    globalSetup: ['@hubcap/db/testing/global-setup'],
    // Starting servers and migrating takes seconds on a busy 2-core machine.
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
