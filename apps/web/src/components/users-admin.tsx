'use client';

import type { AppRouter } from '@hubcap/api';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { TRPCClientErrorLike } from '@trpc/client';
import type { inferRouterOutputs } from '@trpc/server';
import { useState } from 'react';
import { useTRPC } from '@/trpc/client.tsx';
import { Badge, Button, Card, ErrorText, TableHead } from './ui.tsx';

type Users = inferRouterOutputs<AppRouter>['user']['list'];
const ROLES = ['viewer', 'editor', 'admin'] as const;
type Role = (typeof ROLES)[number];

function RoleSelect({
  onChange,
  ...props
}: {
  value: Role;
  onChange: (role: Role) => void;
  className: string;
  id?: string;
  name?: string;
  'aria-label'?: string;
}) {
  return (
    <select {...props} onChange={(e) => onChange(e.target.value as Role)}>
      {ROLES.map((r) => (
        <option key={r} value={r}>
          {r}
        </option>
      ))}
    </select>
  );
}

export function UsersAdmin({ initial, selfId }: { initial: Users; selfId: string }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const { data: users = initial } = useQuery(
    trpc.user.list.queryOptions(undefined, { initialData: initial }),
  );
  const refresh = () => queryClient.invalidateQueries({ queryKey: trpc.user.list.queryKey() });
  const [form, setForm] = useState({ email: '', name: '', role: 'viewer' as Role });
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [message, setMessage] = useState<string | null>(null);
  const [password, setPassword] = useState<{ email: string; password: string } | null>(null);

  const onError = (error: TRPCClientErrorLike<AppRouter>) => {
    if (error.data?.fieldErrors) setErrors(error.data.fieldErrors);
    setMessage(error.message);
  };
  const create = useMutation(
    trpc.user.create.mutationOptions({
      onSuccess: (result) => {
        setPassword({ email: result.user.email, password: result.password });
        setForm({ email: '', name: '', role: 'viewer' });
        setErrors({});
        setMessage(null);
        void refresh();
      },
      onError,
    }),
  );
  const update = useMutation(trpc.user.update.mutationOptions({ onSuccess: () => void refresh(), onError }));
  const reset = useMutation(
    trpc.user.resetPassword.mutationOptions({
      onSuccess: (result, input) =>
        setPassword({
          email: users.find((u) => u.id === input.userId)?.email ?? '',
          password: result.password,
        }),
      onError,
    }),
  );

  return (
    <div className="space-y-6">
      {password && (
        <div role="status" className="rounded border border-amber-300 bg-amber-50 p-3 text-sm">
          Password for <strong>{password.email}</strong>:{' '}
          <code className="select-all font-mono">{password.password}</code>
          <span className="ml-2 text-slate-600">Shown once; hand it over safely.</span>
        </div>
      )}
      <ErrorText message={message} />
      <Card title="Accounts">
        <table className="w-full text-sm" data-testid="users">
          <TableHead columns={['Email', 'Name', 'Role', 'State', '']} />
          <tbody>
            {users.map((u) => (
              <tr key={u.id} className="border-t border-slate-100">
                <td className="py-1.5">{u.email}</td>
                <td className="py-1.5">{u.name}</td>
                <td className="py-1.5">
                  <RoleSelect
                    aria-label={`Role of ${u.email}`}
                    value={u.role}
                    onChange={(role) => update.mutate({ userId: u.id, role })}
                    className="rounded border border-slate-300 px-2 py-1"
                  />
                </td>
                <td className="py-1.5">
                  {u.disabled ? <Badge tone="paused">disabled</Badge> : <Badge tone="healthy">active</Badge>}
                </td>
                <td className="space-x-2 py-1.5 text-right">
                  {u.id !== selfId && (
                    <Button
                      variant="secondary"
                      onClick={() => update.mutate({ userId: u.id, disabled: !u.disabled })}
                    >
                      {u.disabled ? 'Enable' : 'Disable'}
                    </Button>
                  )}
                  <Button variant="secondary" onClick={() => reset.mutate({ userId: u.id })}>
                    Reset password
                  </Button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </Card>
      <Card title="Add an account">
        <form
          noValidate
          className="grid items-start gap-3 md:grid-cols-4"
          onSubmit={(e) => {
            e.preventDefault();
            create.mutate(form);
          }}
        >
          {(['email', 'name'] as const).map((field) => (
            <label key={field} className="block text-sm font-medium">
              {field === 'email' ? 'Email' : 'Name'}
              <input
                name={field}
                value={form[field]}
                onChange={(e) => setForm({ ...form, [field]: e.target.value })}
                className={`mt-1 block w-full rounded border px-3 py-1.5 ${errors[field] ? 'border-red-500' : 'border-slate-300'}`}
              />
              {errors[field] && <span className="text-xs text-red-700">{errors[field]}</span>}
            </label>
          ))}
          <label htmlFor="new-account-role" className="block text-sm font-medium">
            Role
            <RoleSelect
              id="new-account-role"
              name="role"
              value={form.role}
              onChange={(role) => setForm({ ...form, role })}
              className="mt-1 block w-full rounded border border-slate-300 px-2 py-1.5"
            />
          </label>
          <div className="pt-6">
            <Button type="submit" disabled={create.isPending}>
              Add account
            </Button>
          </div>
        </form>
        <p className="mt-2 text-xs text-slate-500">
          Viewers watch; editors onboard, edit and deploy topics; admins also manage accounts and settings.
        </p>
      </Card>
    </div>
  );
}
