import type { AddressInfo } from 'node:net';
import { AgentReport, type TopicConfigInput } from '@hubcap/shared';
import { initTRPC, TRPCError } from '@trpc/server';
import { createHTTPServer } from '@trpc/server/adapters/standalone';

/** A real tRPC server with the control plane's agent procedures, for tests. */
export async function startFakeControlPlane(options: {
  token: string;
  config: TopicConfigInput;
  version?: number;
}) {
  const reports: AgentReport[] = [];
  const state = {
    down: false,
    delayMs: 0,
    version: options.version ?? 1,
    /** What `agent.config` answers (not validated here: the agent validates it). */
    config: options.config as unknown,
    /** Delay of `agent.config` answers. */
    configDelayMs: 0,
    configRequests: 0,
  };
  const t = initTRPC.context<{ authorization: string | undefined }>().create();
  const agent = t.procedure.use(({ ctx, next }) => {
    if (ctx.authorization !== `Bearer ${options.token}`) throw new TRPCError({ code: 'UNAUTHORIZED' });
    if (state.down) throw new TRPCError({ code: 'INTERNAL_SERVER_ERROR', message: 'down for maintenance' });
    return next();
  });
  const router = t.router({
    agent: t.router({
      report: agent.input(AgentReport).mutation(async ({ input }) => {
        if (state.delayMs) await new Promise((r) => setTimeout(r, state.delayMs));
        reports.push(input);
        return { configVersion: state.version };
      }),
      config: agent.query(async () => {
        state.configRequests++;
        if (state.configDelayMs) await new Promise((r) => setTimeout(r, state.configDelayMs));
        return { version: state.version, config: state.config };
      }),
    }),
  });
  const server = createHTTPServer({
    router,
    basePath: '/api/trpc/',
    createContext: ({ req }) => ({ authorization: req.headers.authorization }),
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    reports,
    state,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
