import { defineConfig } from 'vitest/config';

// Tests talk to a real Azurite on a shared machine: generous timeouts keep them about behaviour.
export default defineConfig({
  test: { testTimeout: 30_000, hookTimeout: 60_000 },
});
