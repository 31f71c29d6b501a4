import type { AgentReport, TopicConfigInput } from '@hubcap/shared';
import { createTRPCClient, httpLink } from '@trpc/client';

/**
 * The control plane as the agent sees it: two tRPC procedures at `<url>/api/trpc`. The router type
 * lives in `@hubcap/api` (`AppRouter`); the agent keeps its own narrow interface so that swapping in
 * `createTRPCClient<AppRouter>` is a one-line change and the agent never depends on server code.
 */
export interface ControlPlaneClient {
  report(report: AgentReport): Promise<{ configVersion: number }>;
  fetchConfig(): Promise<{ version: number; config: TopicConfigInput }>;
}

interface UntypedAgentRouterClient {
  agent: {
    report: {
      mutate(input: AgentReport, opts?: { signal?: AbortSignal }): Promise<{ configVersion: number }>;
    };
    config: {
      query(
        input?: undefined,
        opts?: { signal?: AbortSignal },
      ): Promise<{ version: number; config: TopicConfigInput }>;
    };
  };
}

export interface ControlPlaneOptions {
  url: string;
  token: string;
  /** Per-call timeout. */
  timeoutMs?: number;
}

export function createControlPlaneClient(options: ControlPlaneOptions): ControlPlaneClient {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const url = `${options.url.replace(/\/+$/, '')}/api/trpc`;
  // biome-ignore lint/suspicious/noExplicitAny: replaced by AppRouter once @hubcap/api is consumable here.
  const client = createTRPCClient<any>({
    links: [
      httpLink({
        url,
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
  }) as unknown as UntypedAgentRouterClient;
  return {
    report: (report) => client.agent.report.mutate(report),
    fetchConfig: () => client.agent.config.query(),
  };
}
