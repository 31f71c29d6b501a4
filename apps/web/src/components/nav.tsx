'use client';

import { useMutation } from '@tanstack/react-query';
import type { Route } from 'next';
import Link from 'next/link';
import { usePathname, useRouter } from 'next/navigation';
import { useTRPC } from '@/trpc/client.tsx';

const LINKS: { href: Route; label: string; admin?: boolean }[] = [
  { href: '/', label: 'Fleet' },
  { href: '/alerts' as Route, label: 'Alerts' },
  { href: '/settings' as Route, label: 'Settings' },
  { href: '/users' as Route, label: 'Users', admin: true },
  { href: '/audit' as Route, label: 'Audit log', admin: true },
];

export function Nav({ email, role, openAlerts }: { email: string; role: string; openAlerts: number }) {
  const pathname = usePathname();
  const router = useRouter();
  const trpc = useTRPC();
  const signOut = useMutation(
    trpc.auth.signOut.mutationOptions({ onSettled: () => router.replace('/sign-in') }),
  );
  return (
    <nav className="border-b border-slate-200 bg-white">
      <div className="mx-auto flex max-w-7xl flex-wrap items-center gap-x-6 gap-y-2 px-4 py-3 sm:px-6">
        <Link href="/" className="text-lg font-bold tracking-tight">
          Hubcap
        </Link>
        <div className="flex flex-wrap items-center gap-x-4 gap-y-1 sm:gap-x-6">
          {LINKS.filter((l) => !l.admin || role === 'admin').map((link) => {
            const active =
              link.href === '/'
                ? pathname === '/' || pathname.startsWith('/topics')
                : pathname.startsWith(link.href);
            return (
              <Link
                key={link.href}
                href={link.href}
                className={`text-sm ${active ? 'font-semibold text-slate-900' : 'text-slate-500 hover:text-slate-900'}`}
              >
                {link.label}
                {link.label === 'Alerts' && openAlerts > 0 && (
                  <span className="ml-1 rounded-full bg-red-600 px-1.5 text-xs text-white">{openAlerts}</span>
                )}
              </Link>
            );
          })}
        </div>
        <div className="ml-auto flex min-w-0 items-center gap-3 text-sm text-slate-500">
          <span data-testid="whoami" className="truncate">
            {email} · {role}
          </span>
          <Link href={'/account' as Route} className="shrink-0 text-slate-700 underline">
            Password
          </Link>
          <button
            type="button"
            onClick={() => signOut.mutate()}
            className="shrink-0 text-slate-700 underline"
          >
            Sign out
          </button>
        </div>
      </div>
    </nav>
  );
}
