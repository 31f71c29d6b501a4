import type { PrismaClient } from '@hubcap/db';
import { generatePassword, hashPassword } from './auth/password.ts';
import { audit, SYSTEM } from './services/audit.ts';

/**
 * The first run needs one admin to sign in with. Returns the generated password when it created one
 * (the caller shows it once), or null when users already exist.
 */
export async function ensureAdmin(
  prisma: PrismaClient,
  email: string,
  password: string = generatePassword(),
): Promise<{ email: string; password: string } | null> {
  if ((await prisma.user.count()) > 0) return null;
  await prisma.user.create({
    data: {
      email: email.toLowerCase(),
      name: 'Administrator',
      role: 'admin',
      passwordHash: await hashPassword(password),
    },
  });
  await audit(prisma, SYSTEM, 'user.bootstrapAdmin', { type: 'user' });
  return { email, password };
}
