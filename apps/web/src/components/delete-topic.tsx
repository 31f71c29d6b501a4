'use client';

import { useMutation } from '@tanstack/react-query';
import { useRouter } from 'next/navigation';
import { useState } from 'react';
import { useTRPC } from '@/trpc/client.tsx';
import { Button } from './ui.tsx';

/** Deletes the topic after a confirmation; refused (with the reason shown) while its agent is deployed. */
export function DeleteTopic({ topic }: { topic: string }) {
  const trpc = useTRPC();
  const router = useRouter();
  const [error, setError] = useState<string | null>(null);
  const remove = useMutation(
    trpc.topic.delete.mutationOptions({
      onSuccess: () => router.push('/'),
      onError: (e) => setError(e.message),
    }),
  );
  const confirmAndDelete = () => {
    const question =
      `Delete the topic ${topic}? Its configuration, versions, agent tokens and metrics are deleted. ` +
      'Files already written stay in storage. (Its agent must be removed first: Remove, under Deployment.)';
    if (!window.confirm(question)) return;
    setError(null);
    remove.mutate({ name: topic });
  };
  return (
    <>
      <Button variant="danger" disabled={remove.isPending} onClick={confirmAndDelete}>
        {remove.isPending ? 'Deleting…' : 'Delete topic'}
      </Button>
      {error && (
        <p role="alert" data-testid="delete-error" className="basis-full text-sm text-red-700">
          {error}
        </p>
      )}
    </>
  );
}
