import { randomUUID } from 'node:crypto';
import type { PrismaClient, Role } from '@hubcap/db';
import type { Deployer, KubernetesTarget } from '@hubcap/deployer';
import { createLogger, type Logger } from '@hubcap/log';
import pkg from '../package.json' with { type: 'json' };
import type { SecretBox } from './auth/secret-box.ts';
import { SESSION_COOKIE, userForSession } from './auth/sessions.ts';
import { hashToken } from './auth/tokens.ts';

export interface SessionUser {
  id: string;
  email: string;
  name: string;
  role: Role;
  /** After an admin-generated password: only changing it (or signing out) is allowed. */
  mustChangePassword: boolean;
}

export interface AgentPrincipal {
  agentId: string;
  topicId: string;
  topicName: string;
  /** Tokens the deployer issued may read the topic's config with its secrets; tokens people mint only report. */
  configAccess: boolean;
}

/** What reporting needs to know of the agent. */
export type ReportingAgent = Omit<AgentPrincipal, 'configAccess'>;

/** What the operator allows beyond the safe defaults (environment variables of the web server). */
export interface SecurityPolicy {
  /** Hosts beyond Azure's that topics and the webhook may reach: `host`, `host:port`, `*.suffix`. */
  allowedEndpoints: string[];
  /** Folder local-folder destinations must stay inside; null refuses local-folder destinations. */
  localFolderRoot: string | null;
}

export const DEFAULT_POLICY: SecurityPolicy = { allowedEndpoints: [], localFolderRoot: null };

/** Long-lived dependencies the web server creates once and hands to every request. */
export interface ApiServices {
  prisma: PrismaClient;
  secrets: SecretBox;
  /** Deploys agents; absent until a deployer is configured (deploy requests are then only recorded). */
  deployer?: Deployer | null;
  /** Namespace and image of exported manifests (`deployment.exportManifests`), whichever deployer runs. */
  manifestTarget?: KubernetesTarget;
  /** Absent: only Azure endpoints, no local folders. */
  policy?: SecurityPolicy;
  /** The server's logger; each request logs through a child carrying its id. */
  log?: Logger;
}

export interface ApiContext extends ApiServices {
  /** Names the request in the log and in the error a person sees, so one can be found from the other. */
  requestId: string;
  log: Logger;
  user: SessionUser | null;
  agent: AgentPrincipal | null;
  policy: SecurityPolicy;
  /** Whether the request came over HTTPS, so cookies can be marked Secure. */
  secure: boolean;
  /** The client's address as the nearest proxy saw it (for sign-in throttling); null when unknown. */
  clientAddress: string | null;
  sessionToken: string | null;
  setCookie(cookie: string): void;
  setHeader(name: string, value: string): void;
}

let fallbackLog: Logger | undefined;
/** The server's logger; for servers that bring none (tests, scripts), the same shape on stdout. */
export function serverLog(services: ApiServices): Logger {
  if (services.log) return services.log;
  fallbackLog ??= createLogger({ service: 'hubcap-api', version: pkg.version });
  return fallbackLog;
}

export function readCookie(header: string | null, name: string): string | null {
  if (!header) return null;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return decodeURIComponent(part.slice(eq + 1).trim());
  }
  return null;
}

function bearerToken(header: string | null): string | null {
  const match = header && /^Bearer\s+(\S+)$/i.exec(header);
  return match ? match[1]! : null;
}

/** One indexed lookup per agent request (agents report every few seconds, so this is on the hot path). */
async function agentForToken(prisma: PrismaClient, token: string): Promise<AgentPrincipal | null> {
  const [agent] = await prisma.$queryRaw<AgentPrincipal[]>`
    SELECT a.id AS "agentId", t.id AS "topicId", t.slug AS "topicName", a."configAccess"
    FROM "AgentInstance" a JOIN "Topic" t ON t.id = a."topicId"
    WHERE a."tokenHash" = ${hashToken(token)} AND (a."revokedAt" IS NULL OR a."revokedAt" > ${new Date()}::timestamp)`;
  return agent ?? null;
}

/**
 * The last `X-Forwarded-For` entry: the address the nearest proxy (or Next.js itself, which fills the
 * header from the socket when it is absent) saw. A client talking to Next.js directly can choose it,
 * which is why sign-in is also throttled per account.
 */
function clientAddress(headers: Headers): string | null {
  const last = headers.get('x-forwarded-for')?.split(',').at(-1)?.trim();
  return last ? last.slice(0, 64) : null;
}

export async function createContext(
  services: ApiServices,
  request: { url: string; headers: Headers },
  resHeaders: Headers,
): Promise<ApiContext> {
  const { headers } = request;
  const sessionToken = readCookie(headers.get('cookie'), SESSION_COOKIE);
  const agentToken = bearerToken(headers.get('authorization'));
  const [user, agent] = await Promise.all([
    sessionToken ? userForSession(services.prisma, sessionToken) : null,
    agentToken ? agentForToken(services.prisma, agentToken) : null,
  ]);
  const requestId = randomUUID();
  const secure = new URL(request.url).protocol === 'https:' || headers.get('x-forwarded-proto') === 'https';
  return {
    ...services,
    policy: services.policy ?? DEFAULT_POLICY,
    requestId,
    log: serverLog(services).child({ requestId }),
    user,
    agent,
    secure,
    clientAddress: clientAddress(headers),
    sessionToken,
    setCookie: (cookie) => resHeaders.append('set-cookie', cookie),
    setHeader: (name, value) => resHeaders.set(name, value),
  };
}
