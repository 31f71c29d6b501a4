'use client';

import type { AppRouter } from '@hubcap/api';
import { useMutation } from '@tanstack/react-query';
import type { inferRouterOutputs } from '@trpc/server';
import { useState } from 'react';
import { useTRPC } from '@/trpc/client.tsx';
import { Button, Card, ErrorText } from './ui.tsx';

type View = inferRouterOutputs<AppRouter>['settings']['get'];
type Section = 'alerts' | 'prices' | 'retention';

const FIELDS: Record<Section, { key: string; label: string; help: string }[]> = {
  alerts: [
    {
      key: 'lagSeconds',
      label: 'Lag threshold (s)',
      help: 'Alert when the oldest unsaved event is older than this…',
    },
    { key: 'lagMinutes', label: '…for (min)', help: '…for this many minutes in a row.' },
    {
      key: 'silentMinutes',
      label: 'Silent after (min)',
      help: 'Alert when no report arrived for this long.',
    },
    { key: 'errorCount', label: 'Errors', help: 'Alert when agents report this many errors…' },
    { key: 'errorMinutes', label: '…within (min)', help: '…within this many minutes.' },
    {
      key: 'windowOpenMinutes',
      label: 'Window open after end (min)',
      help: 'Alert when a window of data has no completeness marker this long after its end.',
    },
  ],
  prices: [
    {
      key: 'captureTuHour',
      label: 'Capture, $ per TU-hour',
      help: 'Event Hubs Standard Capture: $0.10 per throughput unit-hour.',
    },
    {
      key: 'tuEventsPerSecond',
      label: 'Events/s per TU',
      help: 'A throughput unit carries 1000 events/s of ingress…',
    },
    { key: 'tuMegabytesPerSecond', label: 'MB/s per TU', help: '…or 1 MB/s, whichever is reached first.' },
    {
      key: 'vcpuHour',
      label: 'Agents, $ per vCPU-hour',
      help: 'AKS node capacity (D2s v5 ≈ $0.096/h for 2 vCPU + 8 GiB).',
    },
    { key: 'gibHour', label: 'Agents, $ per GiB-hour', help: 'Memory share of the same node price.' },
  ],
  retention: [
    {
      key: 'rawHours',
      label: 'Raw samples (hours)',
      help: 'Every report is kept this long (default a day).',
    },
    {
      key: 'minuteDays',
      label: 'Per-minute aggregates (days)',
      help: 'Charts beyond an hour use these (default a month).',
    },
  ],
};

export function SettingsForm({ initial, canEdit }: { initial: View; canEdit: boolean }) {
  const trpc = useTRPC();
  const [values, setValues] = useState(() => ({
    alerts: initial.alerts,
    prices: initial.prices,
    retention: initial.retention,
  }));
  const [webhook, setWebhook] = useState('');
  const [clearWebhook, setClearWebhook] = useState(false);
  const [configured, setConfigured] = useState(initial.webhookConfigured);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [saved, setSaved] = useState(false);
  const save = useMutation(
    trpc.settings.update.mutationOptions({
      onSuccess: (view) => {
        setConfigured(view.webhookConfigured);
        setWebhook('');
        setClearWebhook(false);
        setErrors({});
        setSaved(true);
      },
      onError: (error) => {
        setSaved(false);
        setErrors(error.data?.fieldErrors ?? { form: error.message });
      },
    }),
  );

  return (
    <form
      noValidate
      className="space-y-6"
      onSubmit={(e) => {
        e.preventDefault();
        save.mutate({
          ...values,
          webhook: webhook
            ? { action: 'set', url: webhook }
            : clearWebhook
              ? { action: 'clear' }
              : { action: 'keep' },
        });
      }}
    >
      {(Object.keys(FIELDS) as Section[]).map((section) => (
        <Card
          key={section}
          title={
            { alerts: 'Alerts', prices: 'Prices (cost estimate)', retention: 'Metrics retention' }[section]
          }
        >
          <div className="grid gap-4 md:grid-cols-5">
            {FIELDS[section].map((field) => {
              const path = `${section}.${field.key}`;
              const value = (values[section] as Record<string, number>)[field.key];
              return (
                <label key={path} className="block text-sm font-medium">
                  {field.label}
                  <input
                    name={path}
                    type="number"
                    step="any"
                    disabled={!canEdit}
                    value={Number.isNaN(value) ? '' : value}
                    onChange={(e) =>
                      setValues((v) => ({
                        ...v,
                        [section]: { ...v[section], [field.key]: e.target.valueAsNumber },
                      }))
                    }
                    className={`mt-1 block w-full rounded border px-3 py-1.5 ${errors[path] ? 'border-red-500' : 'border-slate-300'}`}
                  />
                  <span className={`text-xs font-normal ${errors[path] ? 'text-red-700' : 'text-slate-500'}`}>
                    {errors[path] ?? field.help}
                  </span>
                </label>
              );
            })}
          </div>
          {section === 'alerts' && (
            <div className="mt-4 grid gap-2 md:grid-cols-2">
              <label className="block text-sm font-medium">
                Webhook URL {configured ? '(configured; never shown)' : '(optional)'}
                <input
                  name="webhook.url"
                  type="url"
                  disabled={!canEdit}
                  placeholder={configured ? 'leave empty to keep' : 'https://hooks.example.com/…'}
                  value={webhook}
                  onChange={(e) => setWebhook(e.target.value)}
                  className={`mt-1 block w-full rounded border px-3 py-1.5 ${errors['webhook.url'] ? 'border-red-500' : 'border-slate-300'}`}
                />
                <span
                  className={`text-xs font-normal ${errors['webhook.url'] ? 'text-red-700' : 'text-slate-500'}`}
                >
                  {errors['webhook.url'] ?? 'Alerts are POSTed here as JSON when they open and resolve.'}
                </span>
              </label>
              {configured && canEdit && (
                <label className="mt-6 flex items-center gap-2 text-sm">
                  <input
                    type="checkbox"
                    checked={clearWebhook}
                    onChange={(e) => setClearWebhook(e.target.checked)}
                  />
                  Remove the webhook
                </label>
              )}
            </div>
          )}
        </Card>
      ))}
      <ErrorText message={errors.form} />
      {canEdit ? (
        <div className="flex items-center gap-3">
          <Button type="submit" disabled={save.isPending}>
            Save settings
          </Button>
          {saved && <span className="text-sm text-emerald-700">Saved.</span>}
        </div>
      ) : (
        <p className="text-sm text-slate-500">Only admins can change settings.</p>
      )}
    </form>
  );
}
