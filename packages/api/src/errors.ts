/** Errors services throw; mapped once to tRPC codes and the wire shape in trpc.ts. */
export type AppErrorCode =
  | 'BAD_REQUEST'
  | 'UNAUTHORIZED'
  | 'FORBIDDEN'
  | 'NOT_FOUND'
  | 'CONFLICT'
  // Failures of what the server depends on (a Kubernetes API, a deployer), not of the request itself.
  | 'PRECONDITION_FAILED'
  | 'UNPROCESSABLE_CONTENT'
  | 'TOO_MANY_REQUESTS'
  | 'BAD_GATEWAY'
  | 'SERVICE_UNAVAILABLE'
  | 'GATEWAY_TIMEOUT';

/** Problems keyed by the field's dotted path ("source.consumerGroup"), so forms show each next to its field. */
export type FieldErrors = Record<string, string>;

export interface AppErrorOptions {
  /** Sent as `Retry-After` (TOO_MANY_REQUESTS, SERVICE_UNAVAILABLE). */
  retryAfterSeconds?: number;
  fieldErrors?: FieldErrors;
  /** What the server log gets beyond the user's message (never shown to people). */
  internal?: string;
  cause?: unknown;
}

/** `message` is safe to show a user; `internal` is for the log. */
export class AppError extends Error {
  readonly code: AppErrorCode;
  readonly retryAfterSeconds: number | undefined;
  readonly fieldErrors: FieldErrors;
  readonly internal: string | undefined;

  constructor(code: AppErrorCode, message: string, options: AppErrorOptions = {}) {
    super(message, { cause: options.cause });
    this.name = 'AppError';
    this.code = code;
    this.retryAfterSeconds = options.retryAfterSeconds;
    this.fieldErrors = options.fieldErrors ?? {};
    this.internal = options.internal;
  }

  /** A request a form can correct: one problem per field, the message lists them all. */
  static invalid(fieldErrors: FieldErrors): AppError {
    return new AppError('BAD_REQUEST', problemLines(fieldErrors).join('; '), { fieldErrors });
  }
}

/** One line per field: `<field>: <what is wrong>`. */
export const problemLines = (fieldErrors: FieldErrors): string[] =>
  Object.entries(fieldErrors).map(([field, problem]) => `${field}: ${problem}`);
