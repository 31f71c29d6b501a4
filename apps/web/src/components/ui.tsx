import type { ReactNode } from 'react';

export function Card({
  title,
  children,
  actions,
}: {
  title?: ReactNode;
  children: ReactNode;
  actions?: ReactNode;
}) {
  return (
    // A wide table scrolls inside its card rather than widening the page on a phone.
    <section className="min-w-0 overflow-x-auto rounded-lg border border-slate-200 bg-white p-4 shadow-sm sm:p-5">
      {(title || actions) && (
        <header className="mb-3 flex items-center justify-between gap-4">
          {title && <h2 className="text-base font-semibold">{title}</h2>}
          {actions}
        </header>
      )}
      {children}
    </section>
  );
}

const STATUS_COLORS: Record<string, string> = {
  healthy: 'bg-emerald-100 text-emerald-800',
  lagging: 'bg-amber-100 text-amber-800',
  starting: 'bg-sky-100 text-sky-800',
  stale: 'bg-orange-100 text-orange-800',
  failing: 'bg-red-100 text-red-800',
  paused: 'bg-slate-200 text-slate-700',
  'not deployed': 'bg-slate-100 text-slate-500',
  ok: 'bg-emerald-100 text-emerald-800',
  warn: 'bg-amber-100 text-amber-800',
  fail: 'bg-red-100 text-red-800',
  open: 'bg-red-100 text-red-800',
  resolved: 'bg-slate-100 text-slate-600',
};

/** One header cell: a name, or a name of a number column (right-aligned like its numbers). */
export type Column = string | { numeric: string };

/** A table's header row; `cell` is the padding its body cells use too. */
export function TableHead({
  columns,
  cell = 'py-1.5',
  row = 'text-left text-slate-500',
}: {
  columns: Column[];
  cell?: string;
  row?: string;
}) {
  return (
    <thead>
      <tr className={row}>
        {columns.map((column) => {
          const label = typeof column === 'string' ? column : column.numeric;
          return (
            // Names are unique within a table; at most one column goes without.
            <th key={label || '(none)'} className={typeof column === 'string' ? cell : `${cell} text-right`}>
              {label}
            </th>
          );
        })}
      </tr>
    </thead>
  );
}

export function Badge({ tone, children }: { tone: string; children?: ReactNode }) {
  return (
    <span
      data-status={tone}
      className={`inline-flex items-center rounded-full px-2 py-0.5 text-xs font-medium whitespace-nowrap ${STATUS_COLORS[tone] ?? 'bg-slate-100 text-slate-700'}`}
    >
      {children ?? tone}
    </span>
  );
}

export function Button({
  children,
  variant = 'primary',
  ...props
}: React.ButtonHTMLAttributes<HTMLButtonElement> & { variant?: 'primary' | 'secondary' | 'danger' }) {
  const styles = {
    primary: 'bg-slate-900 text-white hover:bg-slate-700',
    secondary: 'border border-slate-300 bg-white text-slate-800 hover:bg-slate-50',
    danger: 'border border-red-300 bg-white text-red-700 hover:bg-red-50',
  }[variant];
  return (
    <button
      type="button"
      {...props}
      className={`rounded px-3 py-1.5 text-sm font-medium disabled:opacity-50 ${styles} ${props.className ?? ''}`}
    >
      {children}
    </button>
  );
}

export function Stat({ label, value, hint }: { label: string; value: ReactNode; hint?: ReactNode }) {
  return (
    <div className="rounded-lg border border-slate-200 bg-white px-4 py-3">
      <div className="text-xs uppercase tracking-wide text-slate-500">{label}</div>
      <div className="mt-1 text-xl font-semibold tabular-nums">{value}</div>
      {hint && <div className="text-xs text-slate-500">{hint}</div>}
    </div>
  );
}

export function PageHeader({ title, children }: { title: ReactNode; children?: ReactNode }) {
  return (
    <div className="mb-6 flex flex-wrap items-center justify-between gap-4">
      <h1 className="text-2xl font-semibold">{title}</h1>
      <div className="flex items-center gap-2">{children}</div>
    </div>
  );
}

/** A failure told to a person; an unexpected one's message names its request id for the server log. */
export function ErrorText({
  message,
  className = '',
}: {
  message: string | null | undefined;
  className?: string;
}) {
  if (!message) return null;
  return (
    <p role="alert" className={`text-sm text-red-700 ${className}`}>
      {message}
    </p>
  );
}
