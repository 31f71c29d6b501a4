import 'server-only';
import { DeployerEnv } from '@hubcap/deployer/env';
import { describeIssues } from '@hubcap/shared';
import { z } from 'zod';

const Env = z
  .object({
    DATABASE_URL: z
      .string({ error: 'is required (npm start sets it; see README)' })
      .regex(/^postgres(ql)?:\/\//, 'must be a postgresql:// URL'),
    HUBCAP_ENCRYPTION_KEY: z
      .string({ error: 'is required: base64 of 32 random bytes (openssl rand -base64 32)' })
      .refine((v) => Buffer.from(v, 'base64').length === 32, 'must be base64 of exactly 32 bytes'),
  })
  // HUBCAP_DEPLOYER, HUBCAP_AGENT_*, HUBCAP_KUBECONFIG…: see packages/deployer/src/env.ts.
  .extend(DeployerEnv.shape);

export type Env = z.output<typeof Env>;

let loaded: Env | undefined;

/** Read at first use rather than import, so `next build` needs no runtime secrets. */
export function env(): Env {
  if (loaded) return loaded;
  const result = Env.safeParse(process.env);
  if (!result.success) {
    throw new Error(
      `Hubcap web cannot start:\n${describeIssues(result.error)
        .map((l) => `  ${l}`)
        .join('\n')}`,
    );
  }
  loaded = result.data;
  return loaded;
}
