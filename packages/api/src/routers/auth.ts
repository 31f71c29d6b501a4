import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { hashPassword, verifyPassword } from '../auth/password.ts';
import { clearedSessionCookie, createSession, deleteSession, sessionCookie } from '../auth/sessions.ts';
import { AppError } from '../errors.ts';
import { publicProcedure, router, viewerProcedure } from '../trpc.ts';

let decoy: Promise<string> | undefined;
const decoyHash = () => {
  decoy ??= hashPassword(randomBytes(16).toString('hex'));
  return decoy;
};

const SignIn = z.strictObject({
  email: z.email('enter an email address').max(320),
  password: z.string().min(1, 'enter your password').max(1024),
});

export const authRouter = router({
  signIn: publicProcedure.input(SignIn).mutation(async ({ ctx, input }) => {
    const user = await ctx.prisma.user.findUnique({ where: { email: input.email.toLowerCase() } });
    // Unknown accounts cost the same hash as known ones, and every failure gets one message,
    // so neither timing nor wording reveals which accounts exist.
    const matches = await verifyPassword(input.password, user?.passwordHash ?? (await decoyHash()));
    const valid = matches && user?.passwordHash && !user.disabledAt;
    if (!user || !valid) throw new AppError('UNAUTHORIZED', 'wrong email or password');
    const session = await createSession(ctx.prisma, user.id);
    ctx.setCookie(sessionCookie(session.token, session.expiresAt, ctx.secure));
    await ctx.prisma.auditEvent.create({
      data: {
        actor: `user:${user.id}`,
        actorId: user.id,
        action: 'auth.signIn',
        targetType: 'user',
        targetId: user.id,
      },
    });
    return { id: user.id, email: user.email, name: user.name, role: user.role };
  }),

  signOut: viewerProcedure.mutation(async ({ ctx }) => {
    if (ctx.sessionToken) await deleteSession(ctx.prisma, ctx.sessionToken);
    ctx.setCookie(clearedSessionCookie(ctx.secure));
    return { ok: true };
  }),

  me: viewerProcedure.query(({ ctx }) => ctx.user),
});
