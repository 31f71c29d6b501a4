import { describeIssues, fieldPath } from '@hubcap/shared';
import { initTRPC, TRPCError } from '@trpc/server';
import { ZodError } from 'zod';
import type { ApiContext, SessionUser } from './context.ts';
import { AppError } from './errors.ts';

const t = initTRPC.context<ApiContext>().create({
  // Validation failures reach clients as `fieldErrors` ("source.eventHubName": "…") next to a readable message.
  errorFormatter({ shape, error }) {
    const cause = error.cause;
    if (cause instanceof ZodError) {
      const problems = describeIssues(cause);
      // The first problem per field, keyed by its dotted path, so forms can show it next to the field.
      const fieldErrors: Record<string, string> = {};
      for (const issue of cause.issues) {
        const keys =
          issue.code === 'unrecognized_keys' ? issue.keys.map((k) => [...issue.path, k]) : [issue.path];
        for (const key of keys) {
          const path = fieldPath(key);
          fieldErrors[path] ??= issue.code === 'unrecognized_keys' ? 'is not a known field' : issue.message;
        }
      }
      return { ...shape, message: problems.join('; '), data: { ...shape.data, problems, fieldErrors } };
    }
    // Anything unexpected (a database error with its SQL, a stack overflow) stays in the server's log.
    if (error.code === 'INTERNAL_SERVER_ERROR') {
      const { stack: _, ...data } = shape.data;
      return { ...shape, message: 'internal error; the server log has the details', data };
    }
    return shape;
  },
});

export const router = t.router;
export const createCallerFactory = t.createCallerFactory;

/**
 * Services throw AppError, or a ZodError when a document they assemble (a config merged with its
 * stored secrets) fails its schema; this is the one place either becomes a tRPC error.
 */
const mapErrors = t.middleware(async ({ ctx, next }) => {
  const result = await next();
  if (!result.ok && result.error.cause instanceof AppError) {
    const cause = result.error.cause;
    if (cause.retryAfterSeconds) ctx.setHeader('retry-after', String(cause.retryAfterSeconds));
    throw new TRPCError({ code: cause.code, message: cause.message, cause });
  }
  if (!result.ok && result.error.cause instanceof ZodError && result.error.code !== 'BAD_REQUEST') {
    throw new TRPCError({ code: 'BAD_REQUEST', message: 'invalid input', cause: result.error.cause });
  }
  return result;
});

export const publicProcedure = t.procedure.use(mapErrors);

const RANK = { viewer: 0, editor: 1, admin: 2 } as const;

/** All an account with an admin-generated password may do until it chooses its own. */
const WHILE_CHANGING_PASSWORD = new Set(['auth.changePassword', 'auth.signOut', 'auth.me']);

/** A signed-in person with at least `role`. */
export function roleProcedure(role: SessionUser['role']) {
  return publicProcedure.use(({ ctx, next, path }) => {
    if (!ctx.user) throw new TRPCError({ code: 'UNAUTHORIZED', message: 'sign in first' });
    if (ctx.user.mustChangePassword && !WHILE_CHANGING_PASSWORD.has(path)) {
      throw new TRPCError({ code: 'FORBIDDEN', message: 'choose your own password first' });
    }
    if (RANK[ctx.user.role] < RANK[role]) {
      throw new TRPCError({
        code: 'FORBIDDEN',
        message: `this needs the ${role} role; you are ${ctx.user.role}`,
      });
    }
    return next({ ctx: { ...ctx, user: ctx.user } });
  });
}

export const viewerProcedure = roleProcedure('viewer');
export const editorProcedure = roleProcedure('editor');
export const adminProcedure = roleProcedure('admin');

/** An agent presenting a valid, unrevoked bearer token. */
export const agentProcedure = publicProcedure.use(({ ctx, next }) => {
  if (!ctx.agent) throw new TRPCError({ code: 'UNAUTHORIZED', message: 'a valid agent token is required' });
  return next({ ctx: { ...ctx, agent: ctx.agent } });
});
