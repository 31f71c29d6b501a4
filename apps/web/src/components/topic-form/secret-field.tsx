'use client';

import { fieldInfo, type SecretField as SecretFieldName } from '@hubcap/shared';
import { TextField } from './fields.tsx';

/**
 * A secret of the config (see SECRET_FIELDS in @hubcap/shared): never shown, blank to keep the stored
 * one. The browser never receives a secret, so an edit form starts with every secret blank.
 */
export function SecretField({
  name,
  label,
  example,
  stored,
}: {
  name: SecretFieldName;
  label: string;
  example: string;
  stored: boolean;
}) {
  const description = fieldInfo(name).description ?? '';
  return (
    <TextField
      name={name}
      label={label}
      type="password"
      placeholder={stored ? '•••••••• stored' : example}
      help={`${stored ? 'A secret is stored (never shown). Leave empty to keep it, or type a new one. ' : ''}${description} Encrypted at rest, never shown again.`}
    />
  );
}
