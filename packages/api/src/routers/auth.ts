import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { hashPassword, verifyPassword } from '../auth/password.ts';
import { ROLES } from '../auth/roles.ts';
import { clearedSessionCookie, createSession, deleteSession, sessionCookie } from '../auth/sessions.ts';
import { signInThrottle } from '../auth/throttle.ts';
import { hashToken } from '../auth/tokens.ts';
import { AppError } from '../errors.ts';
import { audit, userActor } from '../services/audit.ts';
import { publicProcedure, router, viewerProcedure } from '../trpc.ts';

let decoy: Promise<string> | undefined;
const decoyHash = () => {
  decoy ??= hashPassword(randomBytes(16).toString('hex'));
  return decoy;
};

const ChangePassword = z.strictObject({
  currentPassword: z.string().min(1, 'enter your current password').max(1024),
  newPassword: z.string().min(12, 'use at least 12 characters').max(1024, 'must be at most 1024 characters'),
});

const SignIn = z.strictObject({
  email: z.email('enter an email address').max(320),
  password: z.string().min(1, 'enter your password').max(1024),
});

const throttle = signInThrottle();

/** The signed-in person as pages see them. */
const Me = z.object({
  id: z.string(),
  email: z.string(),
  name: z.string(),
  role: z.enum(ROLES),
  mustChangePassword: z.boolean(),
});
const Done = z.object({ ok: z.boolean() });

export const authRouter = router({
  signIn: publicProcedure
    .input(SignIn)
    .output(Me)
    .mutation(async ({ ctx, input }) => {
      const email = input.email.toLowerCase();
      // Unknown accounts are throttled like known ones, so the limits do not reveal which exist.
      const keys: [keyof typeof throttle, string][] = [['account', email]];
      if (ctx.clientAddress)
        keys.push(['pair', `${email} ${ctx.clientAddress}`], ['address', ctx.clientAddress]);
      const waitMs = Math.max(...keys.map(([limit, key]) => throttle[limit].wait(key)));
      if (waitMs > 0) {
        const seconds = Math.ceil(waitMs / 1000);
        throw new AppError('TOO_MANY_REQUESTS', `too many failed sign-ins; try again in ${seconds} s`, {
          retryAfterSeconds: seconds,
        });
      }
      const user = await ctx.prisma.user.findUnique({ where: { email } });
      // Unknown accounts cost the same hash as known ones, and every failure gets one message,
      // so neither timing nor wording reveals which accounts exist.
      const matches = await verifyPassword(input.password, user?.passwordHash ?? (await decoyHash()));
      const valid = matches && user?.passwordHash && !user.disabledAt;
      if (!user || !valid) {
        for (const [limit, key] of keys) throttle[limit].fail(key);
        throw new AppError('UNAUTHORIZED', 'wrong email or password');
      }
      throttle.account.succeed(email);
      if (ctx.clientAddress) throttle.pair.succeed(`${email} ${ctx.clientAddress}`);
      const session = await createSession(ctx.prisma, user.id);
      ctx.setCookie(sessionCookie(session.token, session.expiresAt, ctx.secure));
      await audit(ctx.prisma, userActor(user), 'auth.signIn', { type: 'user', id: user.id });
      return {
        id: user.id,
        email: user.email,
        name: user.name,
        role: user.role,
        mustChangePassword: user.mustChangePassword,
      };
    }),

  /** Changes one's own password (required after an admin-generated one); other sessions end. */
  changePassword: viewerProcedure
    .input(ChangePassword)
    .output(Done)
    .mutation(async ({ ctx, input }) => {
      const key = `change ${ctx.user.id}`;
      const waitMs = throttle.pair.wait(key);
      if (waitMs > 0) {
        const seconds = Math.ceil(waitMs / 1000);
        throw new AppError('TOO_MANY_REQUESTS', `too many wrong passwords; try again in ${seconds} s`, {
          retryAfterSeconds: seconds,
        });
      }
      const user = await ctx.prisma.user.findUniqueOrThrow({ where: { id: ctx.user.id } });
      if (!user.passwordHash || !(await verifyPassword(input.currentPassword, user.passwordHash))) {
        throttle.pair.fail(key);
        throw new AppError('BAD_REQUEST', 'the current password is wrong');
      }
      throttle.pair.succeed(key);
      if (input.newPassword === input.currentPassword)
        throw new AppError('BAD_REQUEST', 'choose a password different from the current one');
      await ctx.prisma.user.update({
        where: { id: user.id },
        data: { passwordHash: await hashPassword(input.newPassword), mustChangePassword: false },
      });
      await ctx.prisma.session.deleteMany({
        where: { userId: user.id, id: { not: ctx.sessionToken ? hashToken(ctx.sessionToken) : '' } },
      });
      await audit(ctx.prisma, userActor(ctx.user), 'user.changePassword', { type: 'user', id: user.id }, {});
      return { ok: true };
    }),

  signOut: viewerProcedure.output(Done).mutation(async ({ ctx }) => {
    if (ctx.sessionToken) await deleteSession(ctx.prisma, ctx.sessionToken);
    ctx.setCookie(clearedSessionCookie(ctx.secure));
    return { ok: true };
  }),

  me: viewerProcedure.output(Me).query(({ ctx }) => ctx.user),
});
