/**
 * Exponential back-off after failures, per key (an account, a client address). The first `free`
 * failures cost nothing; each further one doubles the wait, up to `maxMs`. A key that stays quiet for
 * `forgetMs` starts over, and at most `maxKeys` keys are remembered (the oldest are forgotten first),
 * so a flood of made-up keys cannot grow memory. Kept in memory: each control-plane replica counts
 * on its own.
 */
interface BackoffOptions {
  free: number;
  baseMs: number;
  maxMs: number;
  forgetMs: number;
  maxKeys: number;
}

export class Backoff {
  private readonly entries = new Map<string, { failures: number; until: number; last: number }>();
  private readonly options: BackoffOptions;

  constructor(options: BackoffOptions) {
    this.options = options;
  }

  /** Milliseconds until `key` may try again; 0 when it may now. */
  wait(key: string, now = Date.now()): number {
    const entry = this.current(key, now);
    return entry ? Math.max(0, entry.until - now) : 0;
  }

  fail(key: string, now = Date.now()): void {
    const { free, baseMs, maxMs, maxKeys } = this.options;
    const entry = this.current(key, now) ?? { failures: 0, until: 0, last: now };
    entry.failures++;
    entry.last = now;
    if (entry.failures >= free) entry.until = now + Math.min(maxMs, baseMs * 2 ** (entry.failures - free));
    // Re-inserted so that the Map's order is least recently failed first.
    this.entries.delete(key);
    this.entries.set(key, entry);
    for (const oldest of this.entries.keys()) {
      if (this.entries.size <= maxKeys) break;
      this.entries.delete(oldest);
    }
  }

  succeed(key: string): void {
    this.entries.delete(key);
  }

  private current(key: string, now: number) {
    const entry = this.entries.get(key);
    if (entry && now - entry.last > this.options.forgetMs) {
      this.entries.delete(key);
      return undefined;
    }
    return entry;
  }
}

const MINUTE = 60_000;

/**
 * Sign-in limits. One address guessing one account is slowed hardest (up to 15 min); an address
 * trying many accounts too. An account under attack from many addresses waits at most 30 s between
 * tries, so an attacker cannot lock its owner out for long.
 */
export function signInThrottle() {
  const keys = { maxKeys: 10_000, forgetMs: 60 * MINUTE, baseMs: 1000 };
  return {
    pair: new Backoff({ ...keys, free: 5, maxMs: 15 * MINUTE }),
    address: new Backoff({ ...keys, free: 20, maxMs: 15 * MINUTE }),
    account: new Backoff({ ...keys, free: 10, maxMs: 30_000 }),
  };
}
