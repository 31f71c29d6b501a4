/** Errors services throw; mapped once to tRPC codes in trpc.ts. `message` is safe to show a user. */
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

export class AppError extends Error {
  readonly code: AppErrorCode;
  /** Sent as `Retry-After` (TOO_MANY_REQUESTS, SERVICE_UNAVAILABLE). */
  readonly retryAfterSeconds: number | undefined;

  constructor(code: AppErrorCode, message: string, options: { retryAfterSeconds?: number } = {}) {
    super(message);
    this.name = 'AppError';
    this.code = code;
    this.retryAfterSeconds = options.retryAfterSeconds;
  }
}
