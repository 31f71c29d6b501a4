import type { AppRouter } from '@hubcap/api';
import { createTRPCClient, httpLink } from '@trpc/client';
import type { inferRouterInputs, inferRouterOutputs } from '@trpc/server';

type Inputs = inferRouterInputs<AppRouter>['agent'];
type Outputs = inferRouterOutputs<AppRouter>['agent'];

/**
 * The control plane as the agent sees it: its two agent procedures at `<url>/api/trpc`, typed by the
 * control plane's own router. The import is type-only: the agent's image carries no server code.
 */
export interface ControlPlaneClient {
  report(report: Inputs['report']): Promise<Outputs['report']>;
  fetchConfig(): Promise<Outputs['config']>;
  /** A replay run's window and config. */
  fetchReplay(id: string): Promise<Outputs['replay']>;
  reportReplay(progress: Inputs['replayProgress']): Promise<Outputs['replayProgress']>;
}

export interface ControlPlaneOptions {
  url: string;
  token: string;
  /** Per-call timeout. */
  timeoutMs?: number;
}

export function createControlPlaneClient(options: ControlPlaneOptions): ControlPlaneClient {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const client = createTRPCClient<AppRouter>({
    links: [
      httpLink({
        url: `${options.url.replace(/\/+$/, '')}/api/trpc`,
        headers: () => ({ authorization: `Bearer ${options.token}` }),
        fetch: (input, init) =>
          fetch(input, {
            ...(init as RequestInit),
            signal: init?.signal
              ? AbortSignal.any([init.signal as AbortSignal, AbortSignal.timeout(timeoutMs)])
              : AbortSignal.timeout(timeoutMs),
          }),
      }),
    ],
  });
  return {
    report: (report) => client.agent.report.mutate(report),
    fetchConfig: () => client.agent.config.query(),
    fetchReplay: (id) => client.agent.replay.query({ id }),
    reportReplay: (progress) => client.agent.replayProgress.mutate(progress),
  };
}
