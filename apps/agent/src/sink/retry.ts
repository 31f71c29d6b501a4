import { type BackoffOptions, backoffDelay, sleepUnlessAborted } from '../runtime/backoff.ts';
import { classifyStorageError, type StorageErrorInfo } from './errors.ts';

export class AbortedError extends Error {
  constructor(what: string) {
    super(`${what} aborted`);
    this.name = 'AbortError';
  }
}

export interface RetryOptions {
  signal?: AbortSignal;
  backoff?: BackoffOptions;
  /** Called for every failed attempt (metrics, readiness, report). */
  onError?: (info: StorageErrorInfo, attempt: number) => void;
  /** Called once the operation succeeds (clears a fatal condition). */
  onSuccess?: () => void;
}

const DEFAULT_BACKOFF: BackoffOptions = { baseMs: 200, maxMs: 30_000 };

/**
 * Runs a storage operation until it succeeds or `signal` aborts. On top of the SDK's own retries
 * (which cover a single request), this keeps a segment's bytes from ever being dropped: every
 * operation it wraps is idempotent (stage the same block, commit the same list, put the same blob),
 * so retrying cannot duplicate. A persistent failure stalls the partition (lag grows, errors are
 * reported, readiness turns false for fatal ones) instead of losing data.
 */
export async function retryStorage<T>(
  what: string,
  operation: (signal: AbortSignal | undefined) => Promise<T>,
  options: RetryOptions = {},
): Promise<T> {
  const backoff = options.backoff ?? DEFAULT_BACKOFF;
  for (let attempt = 0; ; attempt++) {
    if (options.signal?.aborted) throw new AbortedError(what);
    try {
      const result = await operation(options.signal);
      options.onSuccess?.();
      return result;
    } catch (error) {
      if (options.signal?.aborted) throw new AbortedError(what);
      const info = classifyStorageError(error);
      options.onError?.(info, attempt);
      const delay = info.fatal
        ? Math.max(backoffDelay(attempt, backoff), 1000)
        : backoffDelay(attempt, backoff);
      if (!(await sleepUnlessAborted(delay, options.signal))) throw new AbortedError(what);
    }
  }
}
