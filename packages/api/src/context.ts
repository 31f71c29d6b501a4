import type { PrismaClient, Role } from '@hubcap/db';
import type { Deployer, KubernetesTarget } from '@hubcap/deployer';
import type { SecretBox } from './auth/secret-box.ts';
import { SESSION_COOKIE, userForSession } from './auth/sessions.ts';
import { hashToken } from './auth/tokens.ts';

export interface SessionUser {
  id: string;
  email: string;
  name: string;
  role: Role;
}

export interface AgentPrincipal {
  agentId: string;
  topicId: string;
  topicName: string;
}

/** Long-lived dependencies the web server creates once and hands to every request. */
export interface ApiServices {
  prisma: PrismaClient;
  secrets: SecretBox;
  /** Deploys agents; absent until a deployer is configured (deploy requests are then only recorded). */
  deployer?: Deployer | null;
  /** Namespace and image of exported manifests (`deployment.exportManifests`), whichever deployer runs. */
  manifestTarget?: KubernetesTarget;
}

export interface ApiContext extends ApiServices {
  user: SessionUser | null;
  agent: AgentPrincipal | null;
  /** Whether the request came over HTTPS, so cookies can be marked Secure. */
  secure: boolean;
  sessionToken: string | null;
  setCookie(cookie: string): void;
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
    SELECT a.id AS "agentId", t.id AS "topicId", t.slug AS "topicName"
    FROM "AgentInstance" a JOIN "Topic" t ON t.id = a."topicId"
    WHERE a."tokenHash" = ${hashToken(token)} AND (a."revokedAt" IS NULL OR a."revokedAt" > ${new Date()}::timestamp)`;
  return agent ?? null;
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
  const secure = new URL(request.url).protocol === 'https:' || headers.get('x-forwarded-proto') === 'https';
  return {
    ...services,
    user,
    agent,
    secure,
    sessionToken,
    setCookie: (cookie) => resHeaders.append('set-cookie', cookie),
  };
}
