'use client';

import { fieldInfo } from '@hubcap/shared';
import type { ReactNode } from 'react';
import { get, type PathValue, useFormContext, useFormState, useWatch } from 'react-hook-form';
import type { Draft, FieldName } from './draft.ts';

export const fieldId = (name: string) => `field-${name.replaceAll('.', '-')}`;

interface FieldProps {
  name: FieldName;
  label: string;
  /** Replaces the schema's description under the field. */
  help?: ReactNode;
  /** Shown like an error when the field has none, e.g. a consumer group another topic reads. */
  warning?: string | null;
}

/**
 * The line under a field when it has no error: the schema's own description, range and default
 * (the config reference in the README is generated from the same schema).
 */
function useSchemaHelp(name: FieldName, show: (value: number) => string = String): string {
  const doc = useWatch<Draft>();
  const { description = '', minimum, maximum, default: fallback } = fieldInfo(name, doc);
  const range = minimum !== undefined && maximum !== undefined ? ` ${show(minimum)}–${show(maximum)}.` : '';
  const byDefault =
    fallback !== undefined && fallback !== '' && typeof fallback !== 'object'
      ? ` Default ${typeof fallback === 'number' ? show(fallback) : fallback}.`
      : '';
  return `${description}${range}${byDefault}`;
}

function FieldShell({
  name,
  label,
  help,
  warning,
  children,
}: FieldProps & { children: (invalid: boolean, describedBy: string | undefined) => ReactNode }) {
  const { errors } = useFormState<Draft>({ name });
  const error: string | undefined =
    (get(errors, name) as { message?: string } | undefined)?.message ?? warning ?? undefined;
  const id = fieldId(name);
  return (
    <div className="space-y-1" data-field={name}>
      <label htmlFor={id} className="block text-sm font-medium">
        {label}
      </label>
      {children(!!error, error ? `${id}-error` : undefined)}
      {error ? (
        <p id={`${id}-error`} role="alert" className="text-xs text-red-700" data-error-for={name}>
          {error}
        </p>
      ) : (
        help && <p className="text-xs text-slate-500">{help}</p>
      )}
    </div>
  );
}

const inputClass = (error: boolean) =>
  `block w-full rounded border px-3 py-1.5 text-sm ${error ? 'border-red-500 bg-red-50' : 'border-slate-300'}`;

export function TextField({
  type = 'text',
  placeholder,
  disabled,
  optional,
  show,
  ...props
}: FieldProps & {
  type?: 'text' | 'password' | 'number';
  placeholder?: string;
  disabled?: boolean;
  /** An empty optional field is left out of the config instead of being an empty string. */
  optional?: boolean;
  /** How numbers of the schema's range and default read, e.g. as bytes. */
  show?: (value: number) => string;
}) {
  const { register } = useFormContext<Draft>();
  const schemaHelp = useSchemaHelp(props.name, show);
  const number = type === 'number';
  return (
    <FieldShell {...props} help={props.help ?? schemaHelp}>
      {(invalid, describedBy) => (
        <input
          id={fieldId(props.name)}
          type={type}
          disabled={disabled}
          placeholder={placeholder}
          autoComplete={type === 'password' ? 'new-password' : 'off'}
          aria-invalid={invalid}
          aria-describedby={describedBy}
          className={inputClass(invalid)}
          {...register(props.name, {
            // An empty number keeps the schema's default, like an empty optional field.
            setValueAs: (raw: string) =>
              raw === '' && (number || optional) ? undefined : number ? Number(raw) : raw,
          })}
        />
      )}
    </FieldShell>
  );
}

/**
 * A select. Its options are the schema's values unless given; `onSelect` replaces more than the field
 * itself (e.g. a kind with the fields that come with it).
 */
export function SelectField({
  options,
  labels = {},
  onSelect,
  ...props
}: FieldProps & {
  options?: readonly string[];
  labels?: Record<string, string>;
  onSelect?: (value: string) => void;
}) {
  const { register } = useFormContext<Draft>();
  const doc = useWatch<Draft>();
  const value = String(get(doc, props.name) ?? '');
  const schema = fieldInfo(props.name, doc);
  const values = options ?? (schema.enum as string[] | undefined) ?? Object.keys(labels);
  // A union's tag (e.g. `source.auth.kind`) is described by the union.
  const description = schema.description ?? fieldInfo(props.name.replace(/\.[^.]+$/, ''), doc).description;
  return (
    <FieldShell {...props} help={props.help ?? description}>
      {(invalid) => (
        <select
          id={fieldId(props.name)}
          className={inputClass(invalid)}
          {...(onSelect
            ? { name: props.name, value, onChange: (e) => onSelect(e.target.value) }
            : register(props.name))}
        >
          {values.map((v) => (
            <option key={v} value={v}>
              {labels[v] ?? v}
            </option>
          ))}
        </select>
      )}
    </FieldShell>
  );
}

/** Replaces a part of the draft with its errors, e.g. a kind with the fields that come with it. */
export function useReplace() {
  const { setValue, clearErrors } = useFormContext<Draft>();
  return <N extends FieldName>(name: N, value: PathValue<Draft, N>) => {
    setValue(name, value);
    clearErrors(name);
  };
}
