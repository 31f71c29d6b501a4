import { appRouter, createContext } from '@hubcap/api';
import { fetchRequestHandler } from '@trpc/server/adapters/fetch';
import { services } from '@/server/services.ts';

const handler = (req: Request) =>
  fetchRequestHandler({
    endpoint: '/api/trpc',
    req,
    router: appRouter,
    createContext: ({ resHeaders }) => createContext(services(), req, resHeaders),
  });

export { handler as GET, handler as POST };
