'use client';

import { useEffect, useState } from 'react';
import { formatAgo, formatTime } from './format.ts';

/**
 * "12 s ago". The server renders it at one moment and the browser hydrates it at another, so the text
 * may differ by design: React is told so (no hydration error), and the browser keeps it current.
 */
export function Ago({ iso }: { iso: string | null }) {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), 5_000);
    return () => clearInterval(timer);
  }, []);
  return (
    <time dateTime={iso ?? undefined} title={iso ? formatTime(iso) : undefined} suppressHydrationWarning>
      {formatAgo(iso, now)}
    </time>
  );
}
