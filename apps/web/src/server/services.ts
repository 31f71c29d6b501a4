import 'server-only';
import { type ApiServices, SecretBox } from '@hubcap/api';
import { createPrisma } from '@hubcap/db';
import { createDeployer } from '@hubcap/deployer/from-env';
import { env } from '../env.ts';

// One pool per server process; Next may evaluate this module more than once in development.
const globalForServices = globalThis as unknown as { hubcapServices?: ApiServices };

export function services(): ApiServices {
  globalForServices.hubcapServices ??= {
    // Ten connections: agent reports arrive concurrently from the whole fleet.
    prisma: createPrisma(env().DATABASE_URL, { max: 10 }),
    secrets: SecretBox.fromBase64(env().HUBCAP_ENCRYPTION_KEY),
    // Local agents may reach what the control plane may (the local platform's own services).
    ...createDeployer(env(), {
      agentEnv: { HUBCAP_ALLOWED_ENDPOINTS: env().HUBCAP_ALLOWED_ENDPOINTS.join(',') },
    }),
    policy: {
      allowedEndpoints: env().HUBCAP_ALLOWED_ENDPOINTS,
      localFolderRoot: env().HUBCAP_LOCAL_FOLDER_ROOT ?? null,
    },
  };
  return globalForServices.hubcapServices;
}
