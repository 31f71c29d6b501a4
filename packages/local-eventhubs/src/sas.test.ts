import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createSasToken, validateSasToken } from './sas.ts';

const keys = [{ keyName: 'RootManageSharedAccessKey', key: 'c2VjcmV0' }];
const audience = 'sb://127.0.0.1:5672/hub/ConsumerGroups/$default/Partitions/0';
const now = 1_700_000_000;

describe('validateSasToken', () => {
  it('accepts a token signed with the configured key, as the SDK builds it', () => {
    const token = createSasToken(audience, 'RootManageSharedAccessKey', 'c2VjcmV0', now + 3600);
    // Same construction as @azure/core-amqp: HMAC-SHA256 over encodeURIComponent(resource) + "\n" + expiry.
    const sig = createHmac('sha256', 'c2VjcmV0')
      .update(`${encodeURIComponent(audience)}\n${now + 3600}`)
      .digest('base64');
    expect(token).toContain(`sig=${encodeURIComponent(sig)}`);
    expect(validateSasToken(token, keys, now)).toEqual({ ok: true, audience, expiresAt: now + 3600 });
  });

  it('refuses a wrong key, an unknown key name, an expired token and a tampered resource', () => {
    const wrongKey = createSasToken(audience, 'RootManageSharedAccessKey', 'b3RoZXI=', now + 60);
    expect(validateSasToken(wrongKey, keys, now)).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/signature/),
    });
    const wrongName = createSasToken(audience, 'Listen', 'c2VjcmV0', now + 60);
    expect(validateSasToken(wrongName, keys, now)).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/not known/),
    });
    const expired = createSasToken(audience, 'RootManageSharedAccessKey', 'c2VjcmV0', now - 1);
    expect(validateSasToken(expired, keys, now)).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/expired/),
    });
    const tampered = createSasToken(audience, 'RootManageSharedAccessKey', 'c2VjcmV0', now + 60).replace(
      encodeURIComponent('Partitions/0'),
      encodeURIComponent('Partitions/1'),
    );
    expect(validateSasToken(tampered, keys, now).ok).toBe(false);
  });

  it('refuses things that are not SAS tokens', () => {
    expect(validateSasToken('Bearer abc', keys, now).ok).toBe(false);
    expect(validateSasToken('SharedAccessSignature sr=a&sig=b', keys, now).ok).toBe(false);
    expect(validateSasToken('SharedAccessSignature sr=%E0%A4%A&sig=b&se=1&skn=x', keys, now).ok).toBe(false);
  });
});
