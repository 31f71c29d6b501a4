'use client';

import { useMutation } from '@tanstack/react-query';
import { useEffect } from 'react';
import { useTRPC } from '@/trpc/client.tsx';

/**
 * Asks the server, as the source fields change, whether another topic already reads this namespace,
 * event hub and consumer group; the message to show on the consumer group field, or null.
 */
export function useSourceConflict(source: unknown, name: string | undefined): string | null {
  const trpc = useTRPC();
  const check = useMutation(trpc.topic.sourceInUse.mutationOptions());
  const key = JSON.stringify(source ?? null);
  const { mutate } = check;
  useEffect(() => {
    const timer = setTimeout(() => mutate({ config: { source: JSON.parse(key) }, name }), 400);
    return () => clearTimeout(timer);
  }, [key, name, mutate]);
  return check.data?.message ?? null;
}
