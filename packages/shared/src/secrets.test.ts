import { describe, expect, it } from 'vitest';
import { configReference } from './config-reference.ts';
import {
  blankSecrets,
  getPath,
  keepStoredSecrets,
  mergeSecrets,
  REDACTED,
  redactSecrets,
  SEALED,
  SECRET_FIELDS,
  SECRET_PATHS,
  splitSecrets,
} from './secrets.ts';
import { configWithEverySecret, configWithoutSecrets, SECRET_VALUES } from './testing.ts';
import { TopicConfig } from './topic-config.ts';

const config = configWithEverySecret();

describe.each(SECRET_FIELDS)('secret field $path', ({ path }) => {
  const secret = SECRET_VALUES[path];

  it('is in use in the test config', () => {
    expect(getPath(config, path)).toBe(secret);
  });

  it('is sealed out of the stored config and opened back', () => {
    const { stored, secrets } = splitSecrets(config);
    expect(getPath(stored, path)).toBe(SEALED);
    expect(JSON.stringify(stored)).not.toContain(secret);
    expect(secrets.get(path)).toBe(secret);
    expect(TopicConfig.parse(mergeSecrets(stored, (field) => secrets.get(field)))).toEqual(config);
  });

  it('is REDACTED for export', () => {
    const redacted = redactSecrets(config);
    expect(getPath(redacted, path)).toBe(REDACTED);
    expect(JSON.stringify(redacted)).not.toContain(secret);
    expect(getPath(config, path)).toBe(secret);
  });

  it('is blank in the edit form, and kept when the form sends it blank', () => {
    const { stored, secrets } = splitSecrets(config);
    const form = blankSecrets(stored);
    expect(getPath(form.config, path)).toBe('');
    expect(form.storedSecrets).toContain(path);
    expect(JSON.stringify(form)).not.toContain(secret);
    expect(TopicConfig.parse(keepStoredSecrets(form.config, secrets))).toEqual(config);
  });

  it('is replaced when the form sends a new value', () => {
    const { secrets } = splitSecrets(config);
    const edited = structuredClone(config);
    const other = SECRET_VALUES[SECRET_PATHS.find((p) => p !== path) ?? path].replace('never', 'new');
    const [parent, key] = [path.slice(0, path.lastIndexOf('.')), path.slice(path.lastIndexOf('.') + 1)];
    (getPath(edited, parent) as Record<string, unknown>)[key] = other;
    expect(getPath(keepStoredSecrets(edited, secrets), path)).toBe(other);
  });
});

describe('secret fields', () => {
  it('declares every field the schema calls a secret', () => {
    const described = [...configReference().matchAll(/^\| `([^`]+)`[^|]*\|.*\(secret\)/gm)].map((m) => m[1]);
    expect(described.sort()).toEqual([...SECRET_PATHS].sort());
  });

  it('leaves fields that are not in use alone (workload identity has no secret)', () => {
    const identity = configWithoutSecrets();
    expect(splitSecrets(identity)).toEqual({ stored: identity, secrets: new Map() });
    expect(redactSecrets(identity)).toEqual(identity);
    expect(keepStoredSecrets(identity, new Map([[SECRET_PATHS[0]!, 'x']]))).toEqual(identity);
  });

  it('opens nothing it was not asked to: a marker without a secret stays a marker', () => {
    const { stored } = splitSecrets(config);
    expect(
      getPath(
        mergeSecrets(stored, () => undefined),
        SECRET_PATHS[0]!,
      ),
    ).toBe(SEALED);
  });

  it('survives hostile stored documents', () => {
    for (const doc of [null, 'text', 42, [], { source: null }, { source: { auth: 'x' } }]) {
      expect(() => blankSecrets(doc)).not.toThrow();
      expect(() => mergeSecrets(doc, () => 'x')).not.toThrow();
    }
  });
});
