import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { SecretBox } from './secret-box.ts';

describe('SecretBox', () => {
  const box = new SecretBox(randomBytes(32));

  it('opens what it sealed, and the ciphertext hides the value', () => {
    const sealed = box.seal('AccountKey=abc123', 'topic-1/storage');
    expect(Buffer.from(sealed.ciphertext).toString('utf8')).not.toContain('abc123');
    expect(box.open(sealed, 'topic-1/storage')).toBe('AccountKey=abc123');
  });

  it('refuses a tampered ciphertext, another row’s secret, or another key', () => {
    const sealed = box.seal('AccountKey=abc123', 'topic-1/storage');
    const tampered = { ...sealed, ciphertext: Buffer.from(sealed.ciphertext).fill(0, 0, 1) };
    expect(() => box.open(tampered, 'topic-1/storage')).toThrow();
    expect(() => box.open(sealed, 'topic-2/storage')).toThrow();
    expect(() => new SecretBox(randomBytes(32)).open(sealed, 'topic-1/storage')).toThrow(/sealed with key/);
  });

  it('requires a 32-byte key', () => {
    expect(() => SecretBox.fromBase64(randomBytes(16).toString('base64'))).toThrow(/32 bytes/);
  });
});
