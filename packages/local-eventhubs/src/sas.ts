import { createHmac, timingSafeEqual } from 'node:crypto';

export interface SasKey {
  keyName: string;
  key: string;
}

export type SasResult = { ok: true; audience: string; expiresAt: number } | { ok: false; reason: string };

/** Builds a token exactly as the SDK's SAS token provider does. */
export function createSasToken(audience: string, keyName: string, key: string, expiresAt: number): string {
  const resource = encodeURIComponent(audience);
  const signature = createHmac('sha256', key).update(`${resource}\n${expiresAt}`).digest('base64');
  return `SharedAccessSignature sr=${resource}&sig=${encodeURIComponent(signature)}&se=${expiresAt}&skn=${encodeURIComponent(keyName)}`;
}

function parseToken(token: string): Map<string, string> | undefined {
  const prefix = 'SharedAccessSignature ';
  if (!token.startsWith(prefix)) return undefined;
  const fields = new Map<string, string>();
  for (const part of token.slice(prefix.length).split('&')) {
    const eq = part.indexOf('=');
    if (eq <= 0) return undefined;
    fields.set(part.slice(0, eq).trim(), part.slice(eq + 1));
  }
  return fields;
}

/**
 * Validates a shared access signature against the configured keys: known key name, valid
 * HMAC-SHA256 over `encodeURIComponent(resource) + "\n" + expiry`, not expired.
 */
export function validateSasToken(token: string, keys: readonly SasKey[], nowSeconds: number): SasResult {
  const fields = parseToken(token);
  if (!fields) return { ok: false, reason: 'The token is not a SharedAccessSignature.' };
  const sr = fields.get('sr');
  const sig = fields.get('sig');
  const se = fields.get('se');
  const skn = fields.get('skn');
  if (sr === undefined || sig === undefined || se === undefined || skn === undefined) {
    return { ok: false, reason: 'The token is missing sr, sig, se or skn.' };
  }
  let keyName: string;
  let signature: Buffer;
  let audience: string;
  try {
    keyName = decodeURIComponent(skn);
    signature = Buffer.from(decodeURIComponent(sig), 'base64');
    audience = decodeURIComponent(sr);
  } catch {
    return { ok: false, reason: 'The token is not correctly encoded.' };
  }
  const expiresAt = Number(se);
  if (!Number.isInteger(expiresAt)) return { ok: false, reason: 'The token expiry is not a number.' };
  if (expiresAt < nowSeconds) return { ok: false, reason: 'The token has expired.' };
  const key = keys.find((k) => k.keyName === keyName);
  if (!key) return { ok: false, reason: `The shared access key '${keyName}' is not known.` };
  const expected = createHmac('sha256', key.key).update(`${sr}\n${se}`).digest();
  if (expected.length !== signature.length || !timingSafeEqual(expected, signature)) {
    return { ok: false, reason: 'The token has an invalid signature.' };
  }
  return { ok: true, audience, expiresAt };
}
