import { databaseTests } from '@hubcap/db/testing/vitest';
import { defineConfig } from 'vitest/config';

export default defineConfig({ test: databaseTests });
