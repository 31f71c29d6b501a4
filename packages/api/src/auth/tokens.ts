import { createHash, randomBytes } from 'node:crypto';

/** Opaque bearer secrets (session cookies, agent tokens): only their SHA-256 is stored. */
export function newToken(prefix: string): string {
  return `${prefix}_${randomBytes(32).toString('base64url')}`;
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}
