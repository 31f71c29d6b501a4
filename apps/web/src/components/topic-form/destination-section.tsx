'use client';

import { useWatch } from 'react-hook-form';
import { Card } from '../ui.tsx';
import { type AuthKind, type DestinationKind, type Draft, newAccount, newDestination } from './draft.ts';
import { SelectField, TextField, useReplace } from './fields.tsx';
import { SecretField } from './secret-field.tsx';
import { AUTH_LABELS } from './source-section.tsx';

/** Where the files land: Blob Storage / ADLS Gen2, or a local folder for development. */
export function DestinationSection({ storedSecrets }: { storedSecrets: readonly string[] }) {
  const replace = useReplace();
  const destination = useWatch<Draft, 'destination'>({ name: 'destination' });
  return (
    <Card title="Destination">
      <div className="grid gap-4 md:grid-cols-2">
        <SelectField
          name="destination.kind"
          label="Kind"
          labels={{ azureBlob: 'Azure Blob Storage / ADLS Gen2', localFolder: 'Local folder (development)' }}
          onSelect={(kind) => replace('destination', newDestination(kind as DestinationKind))}
        />
        {destination.kind === 'localFolder' ? (
          <TextField
            name="destination.path"
            label="Folder"
            help="Folder the files are written to, on the agent's machine."
          />
        ) : (
          <>
            <SelectField
              name="destination.account.kind"
              label="Storage authentication"
              labels={AUTH_LABELS}
              onSelect={(kind) => replace('destination.account', newAccount(kind as AuthKind))}
            />
            {destination.account.kind === 'connectionString' ? (
              <SecretField
                name="destination.account.connectionString"
                label="Storage connection string"
                example="DefaultEndpointsProtocol=https;AccountName=…;AccountKey=…"
                stored={storedSecrets.includes('destination.account.connectionString')}
              />
            ) : (
              <>
                <TextField
                  name="destination.account.accountUrl"
                  label="Account URL"
                  placeholder="https://acct.blob.core.windows.net"
                />
                <TextField name="destination.account.clientId" label="Client id (optional)" optional />
              </>
            )}
            <TextField name="destination.container" label="Container" />
            <TextField name="destination.prefix" label="Prefix (optional)" />
            <TextField name="destination.checkpointContainer" label="Checkpoint container" />
          </>
        )}
      </div>
    </Card>
  );
}
