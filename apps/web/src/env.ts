import 'server-only';
import { isAbsolute } from 'node:path';
import { DeployerEnv } from '@hubcap/deployer/env';
import { allowedEndpointProblem, describeIssues, parseAllowedEndpoints } from '@hubcap/shared';
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
  .extend(DeployerEnv.shape)
  // Optional first admin for a fresh database (containers: `npm start` generates one instead).
  .extend({
    HUBCAP_ADMIN_EMAIL: z.email('must be an email address').optional(),
    HUBCAP_ADMIN_PASSWORD: z.string().min(12, 'must be at least 12 characters').optional(),
  })
  // What the server may reach beyond Azure's endpoints, and where local-folder destinations may write.
  .extend({
    HUBCAP_ALLOWED_ENDPOINTS: z
      .string()
      .optional()
      .transform((v) => parseAllowedEndpoints(v))
      .superRefine((entries, ctx) => {
        for (const entry of entries) {
          const problem = allowedEndpointProblem(entry);
          if (problem) ctx.addIssue({ code: 'custom', message: problem });
        }
      }),
    HUBCAP_LOCAL_FOLDER_ROOT: z
      .string()
      .refine((v) => isAbsolute(v), 'must be an absolute path')
      .optional(),
  })
  // Optional single sign-on (OpenID Connect, e.g. Microsoft Entra ID); all four or none.
  .extend({
    HUBCAP_OIDC_ISSUER: z
      .url({ error: 'must be the issuer URL, e.g. https://login.microsoftonline.com/<tenant>/v2.0' })
      .optional(),
    HUBCAP_OIDC_CLIENT_ID: z.string().min(1).optional(),
    HUBCAP_OIDC_CLIENT_SECRET: z.string().min(1).optional(),
    HUBCAP_PUBLIC_URL: z
      .url({ error: 'must be the dashboard URL as users reach it, e.g. https://hubcap.example.com' })
      .optional(),
    HUBCAP_OIDC_DEFAULT_ROLE: z
      .enum(['viewer', 'editor', 'admin'], { error: 'must be viewer, editor or admin' })
      .default('viewer'),
    HUBCAP_OIDC_LABEL: z.string().min(1).max(40).default('single sign-on'),
  })
  // Logging and background work of this process.
  .extend({
    HUBCAP_LOG_LEVEL: z
      .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], {
        error: 'must be fatal, error, warn, info, debug, trace or silent',
      })
      .default('info'),
    // `off` stops the per-minute rollups, alerts and pruning (tests that watch raw rows).
    HUBCAP_MAINTENANCE: z.enum(['on', 'off'], { error: 'must be on or off' }).default('on'),
  })
  // Set by `npm start` only: its local emulators, for the onboarding form's "Use the local services".
  .extend({
    HUBCAP_LOCAL_EVENTHUBS_CONNECTION_STRING: z.string().min(1).optional(),
    HUBCAP_LOCAL_STORAGE_CONNECTION_STRING: z.string().min(1).optional(),
    HUBCAP_LOCAL_EVENT_HUB: z.string().min(1).default('demo'),
    HUBCAP_LOCAL_CONSUMER_GROUP: z.string().min(1).default('$Default'),
  })
  .superRefine((e, ctx) => {
    // An email alone is fine: the first admin then gets a generated password, printed once.
    if (e.HUBCAP_ADMIN_PASSWORD && !e.HUBCAP_ADMIN_EMAIL) {
      ctx.addIssue({
        code: 'custom',
        path: ['HUBCAP_ADMIN_EMAIL'],
        message: 'is required with HUBCAP_ADMIN_PASSWORD',
      });
    }
    if (!e.HUBCAP_OIDC_ISSUER) return;
    for (const key of ['HUBCAP_OIDC_CLIENT_ID', 'HUBCAP_OIDC_CLIENT_SECRET', 'HUBCAP_PUBLIC_URL'] as const) {
      if (!e[key])
        ctx.addIssue({ code: 'custom', path: [key], message: 'is required when HUBCAP_OIDC_ISSUER is set' });
    }
  });

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
