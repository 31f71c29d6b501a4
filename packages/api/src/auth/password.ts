import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';
import { AppError } from '../errors.ts';

/**
 * Password hashing with scrypt (memory-hard; OWASP's parameters N=2^17, r=8, p=1), built into Node so
 * the control plane needs no native module. Format: `scrypt$N$r$p$salt$hash` (base64url).
 */
const scryptAsync = promisify(scrypt) as (
  password: string,
  salt: Buffer,
  keylen: number,
  options: { N: number; r: number; p: number; maxmem: number },
) => Promise<Buffer>;

const PARAMS = { N: 2 ** 17, r: 8, p: 1 };

/**
 * Each hash takes ~0.3 s of a core and 128 MiB: at most two run at once, and a short queue waits for
 * them. Beyond it callers are told to come back (503 + Retry-After) instead of piling up.
 */
const MAX_RUNNING = 2;
const MAX_WAITING = 16;
let running = 0;
const waiting: (() => void)[] = [];

async function bounded<T>(work: () => Promise<T>): Promise<T> {
  if (running < MAX_RUNNING) running++;
  else if (waiting.length >= MAX_WAITING) {
    throw new AppError('SERVICE_UNAVAILABLE', 'the server is busy; try again in a moment', {
      retryAfterSeconds: 1,
    });
  } else await new Promise<void>((resolve) => waiting.push(resolve));
  try {
    return await work();
  } finally {
    // The slot passes straight to the next waiter, if any.
    const next = waiting.shift();
    if (next) next();
    else running--;
  }
}
const KEY_LENGTH = 32;
const maxmem = (N: number, r: number) => 256 * N * r;

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const { N, r, p } = PARAMS;
  const hash = await bounded(() =>
    scryptAsync(password, salt, KEY_LENGTH, { N, r, p, maxmem: maxmem(N, r) }),
  );
  return ['scrypt', N, r, p, salt.toString('base64url'), hash.toString('base64url')].join('$');
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, n, r, p, salt, hash] = stored.split('$');
  if (scheme !== 'scrypt' || !salt || !hash) return false;
  const N = Number(n);
  const expected = Buffer.from(hash, 'base64url');
  const actual = await bounded(() =>
    scryptAsync(password, Buffer.from(salt, 'base64url'), expected.length, {
      N,
      r: Number(r),
      p: Number(p),
      maxmem: maxmem(N, Number(r)),
    }),
  );
  return timingSafeEqual(actual, expected);
}

/** A random password for a generated account: 20 characters from a URL-safe alphabet. */
export function generatePassword(): string {
  return randomBytes(15).toString('base64url');
}
