'use client';

import type { AppRouter } from '@hubcap/api';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import type { inferRouterOutputs } from '@trpc/server';
import { useState } from 'react';
import { useTRPC } from '@/trpc/client.tsx';
import { formatMoney, formatNumber } from './format.ts';
import { Button, Card, TableHead } from './ui.tsx';

type Cost = inferRouterOutputs<AppRouter>['topic']['list']['cost'];

/** Capture is billed per throughput unit of a namespace: the estimate by namespace, with its assumptions. */
export function NamespaceCosts({ cost, isAdmin }: { cost: Cost; isAdmin: boolean }) {
  const a = cost.assumptions;
  return (
    <Card title="Cost by namespace">
      {cost.namespaces.length === 0 ? (
        <p className="text-sm text-slate-500">No deployed topics: nothing is counted.</p>
      ) : (
        <div className="overflow-x-auto">
          <table className="w-full text-sm" data-testid="namespace-costs">
            <TableHead
              columns={[
                'Namespace',
                'Deployed topics',
                { numeric: 'Ingress' },
                { numeric: 'TUs' },
                { numeric: 'Capture $/mo' },
                { numeric: 'Agents $/mo' },
              ]}
              cell="p-2 font-medium"
              row="border-b border-slate-200 text-left text-slate-500"
            />
            <tbody>
              {cost.namespaces.map((n) => (
                <tr
                  key={n.namespace}
                  className="border-b border-slate-100 last:border-0"
                  data-namespace={n.namespace}
                >
                  <td className="p-2 font-mono text-xs">{n.namespace}</td>
                  <td className="p-2">{n.topics.join(', ')}</td>
                  <td className="p-2 text-right tabular-nums">
                    {formatNumber(n.eventsPerSecond, 1)} ev/s · {formatNumber(n.megabytesPerSecond, 2)} MB/s
                  </td>
                  <td className="p-2 text-right tabular-nums">
                    {isAdmin ? (
                      <ThroughputUnits
                        namespace={n.namespace}
                        value={n.throughputUnits}
                        set={n.throughputUnitsFrom === 'setting'}
                      />
                    ) : (
                      `${n.throughputUnits}${n.throughputUnitsFrom === 'setting' ? ' (set)' : ''}`
                    )}
                  </td>
                  <td className="p-2 text-right tabular-nums">{formatMoney(n.captureMonthly)}</td>
                  <td className="p-2 text-right tabular-nums">{formatMoney(n.agentsMonthly)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <p className="mt-3 text-xs text-slate-500" data-testid="cost-assumptions">
        Assumes Capture at ${a.captureTuHour.toFixed(2)}/TU-hour ({a.hoursPerMonth} h a month), a TU carrying{' '}
        {formatNumber(a.tuEventsPerSecond)} events/s or {formatNumber(a.tuMegabytesPerSecond, 3)} MB/s of
        ingress (at least 1 TU, unless an admin set the namespace's TUs); ingress = {a.ingress}. Agents at $
        {a.vcpuHour}/vCPU-hour and ${a.gibHour}/GiB-hour of requested capacity, paused topics 0. Prices are
        set by admins on the Settings page.
      </p>
    </Card>
  );
}

/** An admin's TUs for one namespace; empty goes back to sizing from the measured ingress. */
function ThroughputUnits({ namespace, value, set }: { namespace: string; value: number; set: boolean }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [draft, setDraft] = useState(set ? String(value) : '');
  const save = useMutation(
    trpc.settings.setThroughputUnits.mutationOptions({
      onSuccess: () => queryClient.invalidateQueries({ queryKey: trpc.topic.list.queryKey() }),
    }),
  );
  return (
    <form
      className="inline-flex items-center gap-1"
      onSubmit={(e) => {
        e.preventDefault();
        save.mutate({ namespace, throughputUnits: draft.trim() === '' ? null : Number(draft) });
      }}
    >
      <input
        aria-label={`Throughput units of ${namespace}`}
        inputMode="numeric"
        placeholder={String(value)}
        value={draft}
        onChange={(e) => setDraft(e.target.value)}
        className="w-16 rounded border border-slate-300 px-1 py-0.5 text-right"
      />
      <Button variant="secondary" type="submit" disabled={save.isPending}>
        Set
      </Button>
      {save.error && (
        <span role="alert" className="text-xs text-red-700">
          {save.error.message}
        </span>
      )}
    </form>
  );
}
