'use client';

import { useFormContext } from 'react-hook-form';
import type { LocalServices } from '@/server/local-services.ts';
import { Button } from '../ui.tsx';
import { type Draft, newDestination } from './draft.ts';

/** On the local platform (`npm start`): fills in its emulators, a hub and consumer group of their own, and a container. */
export function LocalServicesFill({ local }: { local: LocalServices }) {
  const { getValues, setValue, clearErrors } = useFormContext<Draft>();
  const fill = () => {
    const destination = getValues('destination');
    setValue('source.auth', { kind: 'connectionString', connectionString: local.eventHubsConnectionString });
    setValue('source.fullyQualifiedNamespace', undefined);
    setValue('source.eventHubName', local.eventHub);
    setValue('source.consumerGroup', local.consumerGroup);
    setValue('destination', {
      ...newDestination('azureBlob'),
      account: { kind: 'connectionString', connectionString: local.storageConnectionString },
      container: (destination.kind === 'azureBlob' && destination.container) || 'lake',
    });
    clearErrors(['source', 'destination']);
  };
  return (
    <div
      className="flex flex-wrap items-center gap-3 rounded border border-sky-200 bg-sky-50 px-4 py-3 text-sm"
      data-testid="local-services"
    >
      <span className="min-w-0 flex-1">
        This server runs the local platform (<code>npm start</code>): fill in its Event Hubs and storage
        emulators, the hub "{local.eventHub}" with consumer group "{local.consumerGroup}" and a container.
      </span>
      <Button variant="secondary" onClick={fill}>
        Use the local services
      </Button>
    </div>
  );
}
