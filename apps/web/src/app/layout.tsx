import type { Metadata } from 'next';
import type { ReactNode } from 'react';
import { Providers } from '@/trpc/client.tsx';
import './globals.css';

export const metadata: Metadata = {
  title: 'Hubcap',
  description: 'Event Hubs to your data lake, exactly once.',
};

export default function RootLayout({ children }: { children: ReactNode }) {
  return (
    <html lang="en">
      <body className="min-h-screen bg-slate-50 font-sans text-slate-900 antialiased">
        <Providers>{children}</Providers>
      </body>
    </html>
  );
}
