import { describeIssues, fieldPath } from '@hubcap/shared';
import { initTRPC, TRPCError } from '@trpc/server';
import { ZodError } from 'zod';
import { hasRole } from './auth/roles.ts';
import type { ApiContext, SessionUser } from './context.ts';
import { AppError, type FieldErrors, problemLines } from './errors.ts';

/** Field errors keyed by dotted path, first problem per field, so forms show each next to its field. */
function zodFieldErrors(error: ZodError): FieldErrors {
  const fieldErrors: FieldErrors = {};
  for (const issue of error.issues) {
    const unknownKeys = issue.code === 'unrecognized_keys';
    for (const key of unknownKeys ? issue.keys.map((k) => [...issue.path, k]) : [issue.path]) {
      fieldErrors[fieldPath(key)] ??= unknownKeys ? 'is not a known field' : issue.message;
    }
  }
  return fieldErrors;
}

/** Absent on the wire; typed so clients read `error.data.fieldErrors` whatever the error. */
const NO_FIELD_ERRORS = {
  problems: undefined as string[] | undefined,
  fieldErrors: undefined as FieldErrors | undefined,
};

const t = initTRPC.context<ApiContext>().create({
  /**
   * The one place errors take their wire shape: validation problems as `fieldErrors`
   * ("source.eventHubName": "…") with `problems` lines and a readable message; anything unexpected
   * (a database error with its SQL, a stack overflow) as "internal error" with the request id the
   * server log files it under.
   */
  errorFormatter({ shape, error, ctx }) {
    const { cause } = error;
    const requestId = ctx?.requestId;
    if (
      cause instanceof ZodError ||
      (cause instanceof AppError && Object.keys(cause.fieldErrors).length > 0)
    ) {
      const problems = cause instanceof ZodError ? describeIssues(cause) : problemLines(cause.fieldErrors);
      const fieldErrors = cause instanceof ZodError ? zodFieldErrors(cause) : cause.fieldErrors;
      return {
        ...shape,
        message: problems.join('; '),
        data: { ...shape.data, requestId, problems, fieldErrors },
      };
    }
    if (error.code === 'INTERNAL_SERVER_ERROR') {
      const { stack: _, ...data } = shape.data;
      const message = `internal error${requestId ? ` (request ${requestId})` : ''}; the server log has the details`;
      return { ...shape, message, data: { ...data, requestId, ...NO_FIELD_ERRORS } };
    }
    return { ...shape, data: { ...shape.data, requestId, ...NO_FIELD_ERRORS } };
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

/** All an account with an admin-generated password may do until it chooses its own. */
const WHILE_CHANGING_PASSWORD = new Set(['auth.changePassword', 'auth.signOut', 'auth.me']);

/** A signed-in person with at least `role`. */
export function roleProcedure(role: SessionUser['role']) {
  return publicProcedure.use(({ ctx, next, path }) => {
    if (!ctx.user) throw new TRPCError({ code: 'UNAUTHORIZED', message: 'sign in first' });
    if (ctx.user.mustChangePassword && !WHILE_CHANGING_PASSWORD.has(path)) {
      throw new TRPCError({ code: 'FORBIDDEN', message: 'choose your own password first' });
    }
    if (!hasRole(ctx.user.role, role)) {
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
