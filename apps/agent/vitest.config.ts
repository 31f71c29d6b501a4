import { defineConfig } from 'vitest/config';

// Integration tests talk to real Azurite and Event Hubs processes on a shared 2-core machine:
// generous timeouts keep them about behaviour, not speed.
export default defineConfig({
  test: { testTimeout: 30_000, hookTimeout: 60_000 },
});
