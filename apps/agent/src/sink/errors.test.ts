import { describe, expect, it } from 'vitest';
import { backoffDelay } from '../runtime/backoff.ts';
import { classifyStorageError } from './errors.ts';
import { retryStorage } from './retry.ts';

const rest = (statusCode: number, errorCode = '') =>
  Object.assign(new Error(`status ${statusCode}`), { name: 'RestError', statusCode, details: { errorCode } });

describe('storage error classification', () => {
  it.each([
    [rest(429), 'throttled', true, false],
    [rest(503, 'ServerBusy'), 'throttled', true, false],
    [rest(500), 'server', true, false],
    [rest(408), 'timeout', true, false],
    [rest(403, 'AuthenticationFailed'), 'auth', true, true],
    [rest(404, 'ContainerNotFound'), 'not-found', true, true],
    [Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }), 'network', true, false],
    [Object.assign(new Error('aborted'), { name: 'AbortError' }), 'aborted', false, false],
    [rest(400, 'InvalidBlockList'), 'other', false, false],
  ])('%s → %s', (error, kind, retryable, fatal) => {
    expect(classifyStorageError(error)).toMatchObject({ kind, retryable, fatal });
  });
});

describe('retries', () => {
  it('grows the backoff exponentially with full jitter, capped', () => {
    const opts = { baseMs: 100, maxMs: 5000, random: () => 0.999 };
    expect([0, 1, 2, 3, 10].map((a) => backoffDelay(a, opts))).toEqual([99, 199, 399, 799, 4995]);
    expect(backoffDelay(3, { ...opts, random: () => 0 })).toBe(0);
  });

  it('retries a throttled operation until it succeeds and reports each failure', async () => {
    let calls = 0;
    const seen: string[] = [];
    const result = await retryStorage(
      'op',
      async () => {
        if (++calls < 3) throw rest(503, 'ServerBusy');
        return 'ok';
      },
      { backoff: { baseMs: 1, maxMs: 2 }, onError: (info) => seen.push(info.kind) },
    );
    expect(result).toBe('ok');
    expect(seen).toEqual(['throttled', 'throttled']);
  });

  it('stops when aborted', async () => {
    const controller = new AbortController();
    const pending = retryStorage(
      'op',
      async () => {
        throw rest(500);
      },
      { signal: controller.signal, backoff: { baseMs: 10, maxMs: 10 } },
    );
    setTimeout(() => controller.abort(), 30);
    await expect(pending).rejects.toThrow(/aborted/);
  });
});
