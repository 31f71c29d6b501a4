'use client';

import { namespaceOfConnectionString } from '@hubcap/shared';
import { useWatch } from 'react-hook-form';
import { Card } from '../ui.tsx';
import type { AuthKind, Draft } from './draft.ts';
import { SelectField, TextField, useReplace } from './fields.tsx';
import { SecretField } from './secret-field.tsx';

/** Where the events come from. With a connection string, the namespace is the one it points at. */
export function SourceSection({
  initialNamespace,
  storedSecrets,
  sourceTaken,
}: {
  /** The saved namespace, shown while a stored connection string is kept. */
  initialNamespace: string | undefined;
  storedSecrets: readonly string[];
  sourceTaken: string | null;
}) {
  const replace = useReplace();
  const auth = useWatch<Draft, 'source.auth'>({ name: 'source.auth' });
  const stored = storedSecrets.includes('source.auth.connectionString');
  const secret = auth.kind === 'connectionString' ? (auth.connectionString ?? '') : '';
  const namespace =
    namespaceOfConnectionString(secret) ?? (secret === '' && stored ? initialNamespace : null);

  const selectAuth = (kind: AuthKind) => {
    replace('source.auth', kind === 'connectionString' ? { kind, connectionString: '' } : { kind });
    replace(
      'source.fullyQualifiedNamespace',
      kind === 'connectionString' ? undefined : (initialNamespace ?? ''),
    );
  };

  return (
    <Card title="Source: Event Hubs">
      <div className="grid gap-4 md:grid-cols-2">
        {auth.kind === 'connectionString' ? (
          <div className="space-y-1" data-field="source.fullyQualifiedNamespace">
            <span className="block text-sm font-medium">Namespace</span>
            <p className="py-1.5 text-sm break-all" data-testid="derived-namespace">
              {namespace || '—'}
            </p>
            <p className="text-xs text-slate-500">Taken from the connection string (its Endpoint).</p>
          </div>
        ) : (
          <TextField
            name="source.fullyQualifiedNamespace"
            label="Namespace"
            placeholder="myns.servicebus.windows.net"
          />
        )}
        <TextField name="source.eventHubName" label="Event hub" />
        <TextField name="source.consumerGroup" label="Consumer group" warning={sourceTaken} />
        <SelectField
          name="source.startPosition"
          label="Start position"
          labels={{
            earliest: 'earliest — everything the hub still retains',
            latest: 'latest — only new events',
          }}
        />
        <SelectField
          name="source.auth.kind"
          label="Authentication"
          labels={AUTH_LABELS}
          onSelect={(kind) => selectAuth(kind as AuthKind)}
        />
        {auth.kind === 'connectionString' ? (
          <SecretField
            name="source.auth.connectionString"
            label="Connection string"
            example="Endpoint=sb://…;SharedAccessKeyName=…;SharedAccessKey=…"
            stored={stored}
          />
        ) : (
          <TextField name="source.auth.clientId" label="Client id (optional)" optional />
        )}
      </div>
    </Card>
  );
}

export const AUTH_LABELS: Record<AuthKind, string> = {
  connectionString: 'Connection string',
  workloadIdentity: 'Workload identity (managed identity)',
};
