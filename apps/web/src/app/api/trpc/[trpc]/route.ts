import { appRouter, createContext } from '@hubcap/api';
import { fetchRequestHandler } from '@trpc/server/adapters/fetch';
import { services } from '@/server/services.ts';

const handler = (req: Request) =>
  fetchRequestHandler({
    endpoint: '/api/trpc',
    req,
    router: appRouter,
    createContext: ({ resHeaders }) => createContext(services(), req, resHeaders),
    // Agent calls answer a few bytes, many times a second across the fleet: gzip costs more than it
    // saves there (`no-transform` makes Next skip compression). Pages and dashboard calls keep it.
    responseMeta: ({ paths }) =>
      paths?.length && paths.every((path) => path.startsWith('agent.'))
        ? { headers: new Headers({ 'cache-control': 'no-store, no-transform' }) }
        : {},
  });

export { handler as GET, handler as POST };
