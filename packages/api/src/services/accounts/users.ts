import type { PrismaClient, Role } from '@hubcap/db';
import { z } from 'zod';
import { generatePassword, hashPassword } from '../../auth/password.ts';
import { ROLES } from '../../auth/roles.ts';
import { AppError } from '../../errors.ts';
import { type Actor, audit } from '../audit.ts';

export const RoleName = z.enum(ROLES, {
  error: 'must be "viewer", "editor" or "admin"',
});

export const NewUser = z.strictObject({
  email: z.email('enter an email address').max(320),
  name: z.string().trim().min(1, 'name is required').max(200, 'must be at most 200 characters'),
  role: RoleName,
});
export type NewUser = z.output<typeof NewUser>;

const publicUser = {
  id: true,
  email: true,
  name: true,
  role: true,
  disabledAt: true,
  oidcSubject: true,
  createdAt: true,
} as const;

type PublicUserRow = {
  id: string;
  email: string;
  name: string;
  role: Role;
  disabledAt: Date | null;
  oidcSubject: string | null;
  createdAt: Date;
};

const toPublic = ({ oidcSubject, disabledAt, createdAt, ...user }: PublicUserRow) => ({
  ...user,
  disabled: disabledAt !== null,
  sso: oidcSubject !== null,
  createdAt: createdAt.toISOString(),
});

/** An account as admins see it: never its password hash or SSO subject. */
export const UserView = z.object({
  id: z.string(),
  email: z.string(),
  name: z.string(),
  role: RoleName,
  disabled: z.boolean(),
  sso: z.boolean(),
  createdAt: z.iso.datetime(),
});

/** A password generated for an admin to hand over, shown once. */
export const GeneratedPassword = z.object({ password: z.string() });

export async function listUsers(prisma: PrismaClient) {
  const users = await prisma.user.findMany({ orderBy: { email: 'asc' }, select: publicUser });
  return users.map(toPublic);
}

/** Creates a local account with a generated password, returned once for the admin to hand over. */
export async function createUser(prisma: PrismaClient, input: NewUser, who: Actor) {
  const email = input.email.toLowerCase();
  if (await prisma.user.findUnique({ where: { email }, select: { id: true } })) {
    throw new AppError('CONFLICT', `an account for ${email} already exists`);
  }
  const password = generatePassword();
  const user = await prisma.user.create({
    data: {
      email,
      name: input.name,
      role: input.role,
      passwordHash: await hashPassword(password),
      mustChangePassword: true,
    },
    select: publicUser,
  });
  await audit(prisma, who, 'user.create', { type: 'user', id: user.id }, { email, role: input.role });
  return { user: toPublic(user), password };
}

/** The last enabled admin cannot be demoted or disabled: someone must be able to manage users. */
async function assertAnotherAdmin(prisma: PrismaClient, userId: string) {
  const others = await prisma.user.count({
    where: { role: 'admin', disabledAt: null, id: { not: userId } },
  });
  if (others === 0)
    throw new AppError('CONFLICT', 'this is the last enabled admin; make another admin first');
}

export async function updateUser(
  prisma: PrismaClient,
  input: { userId: string; role?: Role; disabled?: boolean },
  who: Actor,
) {
  const user = await prisma.user.findUnique({ where: { id: input.userId }, select: publicUser });
  if (!user) throw new AppError('NOT_FOUND', 'no such user');
  const demoting = input.role !== undefined && input.role !== 'admin' && user.role === 'admin';
  const disabling = input.disabled === true && user.role === 'admin' && !user.disabledAt;
  if (demoting || disabling) await assertAnotherAdmin(prisma, user.id);
  const updated = await prisma.user.update({
    where: { id: user.id },
    data: {
      role: input.role,
      disabledAt: input.disabled === undefined ? undefined : input.disabled ? new Date() : null,
    },
    select: publicUser,
  });
  // A disabled account loses its sessions at once.
  if (input.disabled) await prisma.session.deleteMany({ where: { userId: user.id } });
  await audit(
    prisma,
    who,
    'user.update',
    { type: 'user', id: user.id },
    {
      email: user.email,
      ...(input.role ? { role: [user.role, input.role] } : {}),
      ...(input.disabled === undefined ? {} : { disabled: input.disabled }),
    },
  );
  return toPublic(updated);
}

export async function resetPassword(prisma: PrismaClient, userId: string, who: Actor) {
  const user = await prisma.user.findUnique({ where: { id: userId }, select: { id: true, email: true } });
  if (!user) throw new AppError('NOT_FOUND', 'no such user');
  const password = generatePassword();
  await prisma.user.update({
    where: { id: userId },
    data: { passwordHash: await hashPassword(password), mustChangePassword: true },
  });
  await prisma.session.deleteMany({ where: { userId } });
  await audit(prisma, who, 'user.resetPassword', { type: 'user', id: userId }, { email: user.email });
  return { password };
}
