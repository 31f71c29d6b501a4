import { resolve } from 'node:path';
import { describeIssues } from '@hubcap/shared';
import { z } from 'zod';

const port = (fallback: number) =>
  z.coerce
    .number({ error: 'must be a port number' })
    .int('must be a port number')
    .min(0, 'must be between 0 (any free port) and 65535')
    .max(65535, 'must be between 0 (any free port) and 65535')
    .default(fallback);

const Env = z.object({
  /** Use this PostgreSQL instead of the embedded one. */
  DATABASE_URL: z.preprocess(
    (value) => (value === '' ? undefined : value),
    z
      .string()
      .regex(/^postgres(ql)?:\/\//, 'must be a postgresql:// URL')
      .optional(),
  ),
  HUBCAP_DATA_DIR: z.string().min(1).default('.hubcap'),
  PORT: port(3000),
  HUBCAP_BLOB_PORT: port(10000),
  HUBCAP_EVENTHUBS_PORT: port(5673),
  HUBCAP_ADMIN_EMAIL: z.email('must be an email address').default('admin@hubcap.local'),
  HUBCAP_DEMO_EVENTS_PER_SECOND: z.coerce.number().min(0, 'must be 0 or more').default(200),
});

export type PlatformEnv = z.output<typeof Env> & { dataDir: string };

/** The launcher's settings; a bad variable stops it with one line per problem. */
export function loadEnv(root: string): PlatformEnv {
  const result = Env.safeParse(process.env);
  if (!result.success) {
    for (const line of describeIssues(result.error)) console.error(`hubcap: environment variable ${line}`);
    process.exit(2);
  }
  return { ...result.data, dataDir: resolve(root, result.data.HUBCAP_DATA_DIR) };
}
