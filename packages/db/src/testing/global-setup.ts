// Vitest `globalSetup` entry: `globalSetup: ['@hubcap/db/testing/global-setup']`.
import { setupTestDatabaseServer } from '../testing.ts';

export default setupTestDatabaseServer;
