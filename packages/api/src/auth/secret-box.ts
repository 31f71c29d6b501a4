import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

/** Seals secrets at rest with AES-256-GCM. The key comes from the environment and never from the database. */
export interface SealedSecret {
  keyId: string;
  iv: Uint8Array;
  ciphertext: Uint8Array;
  authTag: Uint8Array;
}

export class SecretBox {
  readonly keyId: string;
  readonly #key: Buffer;

  constructor(key: Buffer) {
    if (key.length !== 32) throw new Error('the encryption key must be 32 bytes (base64 of 32 random bytes)');
    this.#key = key;
    // Identifies the key without revealing it, so a row sealed with another key is recognised.
    this.keyId = createHash('sha256').update(key).digest('hex').slice(0, 16);
  }

  static fromBase64(encoded: string): SecretBox {
    return new SecretBox(Buffer.from(encoded, 'base64'));
  }

  seal(plaintext: string, associatedData: string): SealedSecret {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.#key, iv);
    cipher.setAAD(Buffer.from(associatedData));
    const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return { keyId: this.keyId, iv, ciphertext, authTag: cipher.getAuthTag() };
  }

  /** `associatedData` binds a secret to its row, so a ciphertext copied to another topic will not open. */
  open(sealed: SealedSecret, associatedData: string): string {
    if (sealed.keyId !== this.keyId) {
      throw new Error(`secret was sealed with key ${sealed.keyId}, but the configured key is ${this.keyId}`);
    }
    const decipher = createDecipheriv('aes-256-gcm', this.#key, sealed.iv);
    decipher.setAAD(Buffer.from(associatedData));
    decipher.setAuthTag(sealed.authTag);
    return Buffer.concat([decipher.update(sealed.ciphertext), decipher.final()]).toString('utf8');
  }
}
