import { defineConfig } from 'vitest/config';

// Integration tests talk to real Azurite and Event Hubs processes on a shared 2-core machine:
// generous timeouts keep them about behaviour, not speed. Control-plane tests run the real router
// over a per-test PostgreSQL database.
export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 60_000,
    globalSetup: ['@hubcap/db/testing/global-setup'],
  },
});
