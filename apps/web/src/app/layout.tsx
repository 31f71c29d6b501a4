import type { Metadata } from 'next';
import { connection } from 'next/server';
import type { ReactNode } from 'react';
import { Providers } from '@/trpc/client.tsx';
import './globals.css';

export const metadata: Metadata = {
  title: 'Hubcap',
  description: 'Event Hubs to your data lake, exactly once.',
};

export default async function RootLayout({ children }: { children: ReactNode }) {
  // Every page renders per request, so Next.js can put the proxy's CSP nonce on its scripts.
  await connection();
  return (
    <html lang="en">
      <body className="min-h-screen bg-slate-50 font-sans text-slate-900 antialiased">
        <Providers>{children}</Providers>
      </body>
    </html>
  );
}
