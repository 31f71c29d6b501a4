import { describe, expect, it } from 'vitest';
import { deadLetterLocation, deadLettersByReason, MAX_DEAD_LETTER_REASONS } from './dead-letters.ts';

describe('deadLettersByReason', () => {
  it('keeps the reasons, and counts what the agent did not break down as unspecified', () => {
    expect(
      deadLettersByReason({ deadLettered: 5, deadLetteredByReason: { 'not-json': 2, 'Too-Large': 1 } }),
    ).toEqual({
      'not-json': 2,
      'too-large': 1,
      unspecified: 2,
    });
    expect(deadLettersByReason({ deadLettered: 3 })).toEqual({ unspecified: 3 });
    expect(deadLettersByReason({ deadLettered: 0, deadLetteredByReason: { 'not-json': 0 } })).toEqual({});
  });

  it('bounds the number of reasons and replaces unsafe names, keeping the total', () => {
    const many = Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`r${i}`, 1]));
    const out = deadLettersByReason({ deadLettered: 52, deadLetteredByReason: { ...many, 'a b/c': 2 } });
    expect(Object.keys(out)).toHaveLength(MAX_DEAD_LETTER_REASONS + 1);
    expect(Object.keys(out).slice(0, MAX_DEAD_LETTER_REASONS)).toEqual(
      Array.from({ length: MAX_DEAD_LETTER_REASONS }, (_, i) => `r${i}`),
    );
    expect(out.other).toBe(50 - MAX_DEAD_LETTER_REASONS + 2);
    expect(out['a b/c']).toBeUndefined();
    expect(Object.values(out).reduce((a, b) => a + b, 0)).toBe(52);
  });

  it('counts reasons named like object members as plain numbers', () => {
    expect(
      deadLettersByReason({ deadLettered: 6, deadLetteredByReason: { constructor: 5, toString: 1 } }),
    ).toEqual({ constructor: 5, tostring: 1 });
  });
});

describe('deadLetterLocation', () => {
  it('puts _deadletter/ under the prefix, before the folder layout', () => {
    const pathTemplate = '{namespace}/{hub}/{partition}/{yyyy}/{MM}/{dd}';
    expect(
      deadLetterLocation({
        destination: { kind: 'azureBlob', container: 'lake', prefix: 'raw/' },
        pathTemplate,
      }),
    ).toBe('lake/raw/_deadletter/{namespace}/{hub}/{partition}/{yyyy}/{MM}/{dd}/');
    expect(
      deadLetterLocation({ destination: { kind: 'azureBlob', container: 'lake', prefix: '' }, pathTemplate }),
    ).toBe('lake/_deadletter/{namespace}/{hub}/{partition}/{yyyy}/{MM}/{dd}/');
    expect(
      deadLetterLocation({ destination: { kind: 'localFolder', path: '/data/out/' }, pathTemplate }),
    ).toBe('/data/out/_deadletter/{namespace}/{hub}/{partition}/{yyyy}/{MM}/{dd}/');
    expect(deadLetterLocation(null)).toBeNull();
  });
});
