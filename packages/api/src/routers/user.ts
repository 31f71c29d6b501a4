import { z } from 'zod';
import {
  createUser,
  GeneratedPassword,
  listUsers,
  NewUser,
  RoleName,
  resetPassword,
  UserView,
  updateUser,
} from '../services/accounts/users.ts';
import { userActor } from '../services/audit.ts';
import { adminProcedure, router } from '../trpc.ts';

const UserId = z.string().min(1, 'userId is required').max(100);

/** Account management: admins only. */
export const userRouter = router({
  list: adminProcedure.output(z.array(UserView)).query(({ ctx }) => listUsers(ctx.prisma)),
  create: adminProcedure
    .input(NewUser)
    .output(GeneratedPassword.extend({ user: UserView }))
    .mutation(({ ctx, input }) => createUser(ctx.prisma, input, userActor(ctx.user))),
  update: adminProcedure
    .input(z.strictObject({ userId: UserId, role: RoleName.optional(), disabled: z.boolean().optional() }))
    .output(UserView)
    .mutation(({ ctx, input }) => updateUser(ctx.prisma, input, userActor(ctx.user))),
  resetPassword: adminProcedure
    .input(z.strictObject({ userId: UserId }))
    .output(GeneratedPassword)
    .mutation(({ ctx, input }) => resetPassword(ctx.prisma, input.userId, userActor(ctx.user))),
});
