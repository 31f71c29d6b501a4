import type { TopicConfig } from './topic-config.ts';

/**
 * The fields of a TopicConfig that hold secrets, declared once. Each lives in an object whose `kind`
 * is `kind` and is absent otherwise (e.g. with workload identity). Everything below, and the api,
 * the deployer and the form, works from this list: adding a secret field is adding a line here.
 */
export const SECRET_FIELDS = [
  {
    path: 'source.auth.connectionString',
    kind: 'connectionString',
    meaning: 'Event Hubs connection string',
  },
  {
    path: 'destination.account.connectionString',
    kind: 'connectionString',
    meaning: 'storage account connection string',
  },
] as const;

export type SecretField = (typeof SECRET_FIELDS)[number]['path'];
export const SECRET_PATHS: readonly SecretField[] = SECRET_FIELDS.map((f) => f.path);

/** What a stored config version holds in place of a sealed secret. */
export const SEALED = '<sealed>';
/** What an exported document holds in place of a secret. */
export const REDACTED = 'REDACTED';

type Doc = Record<string, unknown>;

const isDoc = (value: unknown): value is Doc => typeof value === 'object' && value !== null;

function parentOf(doc: Doc, path: string): [Doc | undefined, string] {
  const keys = path.split('.');
  const last = keys.pop()!;
  const parent = keys.reduce<unknown>((node, key) => (isDoc(node) ? node[key] : undefined), doc);
  return [isDoc(parent) ? parent : undefined, last];
}

/** The value at a dotted path, or undefined. */
export function getPath(doc: Doc, path: string): unknown {
  const [parent, key] = parentOf(doc, path);
  return parent?.[key];
}

/** Rewrites every secret field that is in use (its parent has the field's kind) with `replace`. */
function mapSecrets<T extends object>(doc: T, replace: (value: unknown, field: SecretField) => unknown): T {
  const copy = structuredClone(doc) as Doc;
  for (const field of SECRET_FIELDS) {
    const [parent, key] = parentOf(copy, field.path);
    if (parent?.kind !== field.kind) continue;
    const value = replace(parent[key], field.path);
    if (value !== parent[key]) parent[key] = value;
  }
  return copy as T;
}

/** The config as stored: every secret replaced by SEALED, plus the secrets to seal, by field. */
export function splitSecrets(config: TopicConfig): { stored: Doc; secrets: Map<SecretField, string> } {
  const secrets = new Map<SecretField, string>();
  const stored = mapSecrets(config as Doc, (value, field) => {
    if (typeof value !== 'string') return value;
    secrets.set(field, value);
    return SEALED;
  });
  return { stored, secrets };
}

/**
 * A stored config with its sealed secrets opened: `open(field)` gives the secret (the api opens it
 * with its cipher). Server-side only: never send the result to a browser.
 */
export function mergeSecrets(stored: unknown, open: (field: SecretField) => string | undefined): Doc {
  return mapSecrets(isDoc(stored) ? stored : {}, (value, field) =>
    value === SEALED ? (open(field) ?? value) : value,
  );
}

/** The config for a document that leaves the server (exported YAML): every secret REDACTED. */
export function redactSecrets<T extends object>(config: T): T {
  return mapSecrets(config, (value) => (typeof value === 'string' ? REDACTED : value));
}

/** A stored config for the edit form: secrets blank, with the fields that have one stored. */
export function blankSecrets(stored: unknown): { config: Doc; storedSecrets: SecretField[] } {
  const storedSecrets: SecretField[] = [];
  const config = mapSecrets(isDoc(stored) ? stored : {}, (value, field) => {
    if (value !== SEALED) return value;
    storedSecrets.push(field);
    return '';
  });
  return { config, storedSecrets };
}

/** Whether a form left this secret blank: the stored one is kept. */
export const isKept = (value: unknown) => value === '' || value === undefined;

/**
 * A form's draft with its blank secret fields filled from the stored secrets: the browser never
 * receives a secret, so an edit leaves a secret blank to keep it.
 */
export function keepStoredSecrets(draft: Doc, stored: ReadonlyMap<string, string>): Doc {
  return mapSecrets(draft, (value, field) => (isKept(value) ? (stored.get(field) ?? value) : value));
}
