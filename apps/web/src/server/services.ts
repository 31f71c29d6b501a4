import 'server-only';
import { type ApiServices, SecretBox } from '@hubcap/api';
import { createPrisma } from '@hubcap/db';
import { createDeployer } from '@hubcap/deployer/from-env';
import { createLogger, type Logger } from '@hubcap/log';
import pkg from '../../package.json' with { type: 'json' };
import { env } from '../env.ts';

// One pool per server process; Next may evaluate this module more than once in development.
const globalForServices = globalThis as unknown as { hubcapServices?: WebServices };

export type WebServices = ApiServices & { log: Logger };

export function services(): WebServices {
  globalForServices.hubcapServices ??= {
    // Ten connections: agent reports arrive concurrently from the whole fleet.
    prisma: createPrisma(env().DATABASE_URL, { max: 10 }),
    secrets: SecretBox.fromBase64(env().HUBCAP_ENCRYPTION_KEY),
    // The one logger of the process: requests log through a child carrying their id.
    log: createLogger({ service: 'hubcap-web', version: pkg.version, level: env().HUBCAP_LOG_LEVEL }),
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
