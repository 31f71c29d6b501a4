import type { PrismaClient } from '@hubcap/db';
import type { SessionUser } from '../context.ts';
import { hashToken, newToken } from './tokens.ts';

export const SESSION_COOKIE = 'hubcap_session';
const SESSION_DAYS = 7;
/** A session unused this long ends, whatever its absolute expiry. */
export const SESSION_IDLE_MS = 12 * 3_600_000;
/** Last use is recorded at most this often (`updatedAt`), not on every request. */
const TOUCH_EVERY_MS = 5 * 60_000;

export async function createSession(
  prisma: PrismaClient,
  userId: string,
): Promise<{ token: string; expiresAt: Date }> {
  const token = newToken('hs');
  const expiresAt = new Date(Date.now() + SESSION_DAYS * 86_400_000);
  await prisma.session.create({ data: { id: hashToken(token), userId, expiresAt } });
  return { token, expiresAt };
}

export async function userForSession(prisma: PrismaClient, token: string): Promise<SessionUser | null> {
  const session = await prisma.session.findUnique({
    where: { id: hashToken(token) },
    select: {
      id: true,
      expiresAt: true,
      updatedAt: true,
      user: {
        select: { id: true, email: true, name: true, role: true, disabledAt: true, mustChangePassword: true },
      },
    },
  });
  const now = Date.now();
  if (!session || session.expiresAt.getTime() < now || session.user.disabledAt) return null;
  if (now - session.updatedAt.getTime() > SESSION_IDLE_MS) return null;
  if (now - session.updatedAt.getTime() > TOUCH_EVERY_MS) {
    await prisma.session.update({ where: { id: session.id }, data: { updatedAt: new Date(now) } });
  }
  const { disabledAt: _, ...user } = session.user;
  return user;
}

export async function deleteSession(prisma: PrismaClient, token: string): Promise<void> {
  await prisma.session.deleteMany({ where: { id: hashToken(token) } });
}

export function sessionCookie(token: string, expiresAt: Date, secure: boolean): string {
  const attributes = [
    `${SESSION_COOKIE}=${token}`,
    'Path=/',
    'HttpOnly',
    'SameSite=Lax',
    `Expires=${expiresAt.toUTCString()}`,
  ];
  if (secure) attributes.push('Secure');
  return attributes.join('; ');
}

export function clearedSessionCookie(secure: boolean): string {
  return sessionCookie('', new Date(0), secure);
}

/** Deletes sessions past their absolute expiry or idle for longer than the idle timeout. */
export async function pruneSessions(prisma: PrismaClient, now: Date = new Date()): Promise<number> {
  const { count } = await prisma.session.deleteMany({
    where: {
      OR: [{ expiresAt: { lt: now } }, { updatedAt: { lt: new Date(now.getTime() - SESSION_IDLE_MS) } }],
    },
  });
  return count;
}
