'use client';

import type { InputHTMLAttributes } from 'react';
import { ErrorText } from './ui.tsx';

export type AccountField = { name: string; label: string } & Pick<
  InputHTMLAttributes<HTMLInputElement>,
  'type' | 'autoComplete' | 'minLength'
>;

/** The small forms of signing in and of one's own account: required inputs, the server's message, one button. */
export function AccountForm({
  fields,
  label,
  busyLabel,
  pending,
  error,
  onSubmit,
}: {
  fields: AccountField[];
  label: string;
  busyLabel: string;
  pending: boolean;
  error: string | undefined;
  onSubmit: (value: (name: string) => string) => void;
}) {
  return (
    <form
      className="mt-6 space-y-4"
      onSubmit={(event) => {
        event.preventDefault();
        const form = new FormData(event.currentTarget);
        onSubmit((name) => String(form.get(name) ?? ''));
      }}
    >
      {fields.map(({ label: text, ...input }) => (
        <label key={input.name} className="block text-sm font-medium">
          {text}
          <input
            {...input}
            required
            className="mt-1 block w-full rounded border border-slate-300 px-3 py-2"
          />
        </label>
      ))}
      <ErrorText message={error} />
      <button
        type="submit"
        disabled={pending}
        className="w-full rounded bg-slate-900 px-4 py-2 font-medium text-white disabled:opacity-50"
      >
        {pending ? busyLabel : label}
      </button>
    </form>
  );
}
