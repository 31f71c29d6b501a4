import { setTimeout as sleep } from 'node:timers/promises';

export interface BackoffOptions {
  baseMs: number;
  maxMs: number;
  /** Random in [0, 1); injectable for tests. */
  random?: () => number;
}

/** "Full jitter" exponential backoff: uniform in [0, min(max, base * 2^attempt)]. */
export function backoffDelay(attempt: number, options: BackoffOptions): number {
  const ceiling = Math.min(options.maxMs, options.baseMs * 2 ** Math.min(attempt, 30));
  return Math.floor((options.random ?? Math.random)() * ceiling);
}

/** Sleeps, resolving early (with false) if the signal aborts. */
export async function sleepUnlessAborted(ms: number, signal?: AbortSignal): Promise<boolean> {
  if (signal?.aborted) return false;
  try {
    await sleep(ms, undefined, signal ? { signal } : undefined);
    return true;
  } catch {
    return false;
  }
}
