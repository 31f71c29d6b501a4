import { fetchRequestHandler } from '@trpc/server/adapters/fetch';
import { type ApiServices, createContext, serverLog } from './context.ts';
import { AppError } from './errors.ts';
import { appRouter } from './root.ts';

/**
 * The tRPC endpoint as the web server mounts it. Before tRPC sees a request, it is refused when it
 * comes from another site (CSRF), carries a body too large to read, batches too many calls or
 * batches sign-ins (each sign-in costs a password hash, so one request must not carry many).
 */

/** Calls per batched request; the browser client batches at most this many. */
export const MAX_BATCH_SIZE = 10;
/** People's calls are small documents (a topic config is a few kB). */
export const MAX_BODY_BYTES = 1024 * 1024;
/** Agent reports: 1024 partitions, 50 errors and files, new schema versions. */
export const MAX_AGENT_BODY_BYTES = 4 * 1024 * 1024;

const ENDPOINT = '/api/trpc';

export async function handleApiRequest(services: ApiServices, req: Request): Promise<Response> {
  let paths: string[];
  try {
    paths = decodeURIComponent(new URL(req.url).pathname.slice(ENDPOINT.length + 1)).split(',');
  } catch {
    return errorResponse(400, 'BAD_REQUEST', 'the procedure path is not valid URL encoding');
  }
  const refusal = refuse(req, paths);
  if (refusal) return refusal;

  let body: string | undefined;
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    const limit = paths.every((p) => p.startsWith('agent.')) ? MAX_AGENT_BODY_BYTES : MAX_BODY_BYTES;
    const read = await readLimited(req, limit);
    if (read === null)
      return errorResponse(413, 'PAYLOAD_TOO_LARGE', `the request body exceeds ${limit} bytes`);
    body = read;
  }
  const request = new Request(req.url, {
    method: req.method,
    headers: req.headers,
    body,
    signal: req.signal,
  });
  return fetchRequestHandler({
    endpoint: ENDPOINT,
    req: request,
    router: appRouter,
    maxBatchSize: MAX_BATCH_SIZE,
    createContext: ({ resHeaders }) => createContext(services, request, resHeaders),
    // Agent calls answer a few bytes, many times a second across the fleet: gzip costs more than it
    // saves there (`no-transform` makes Next skip compression). Pages and dashboard calls keep it.
    responseMeta: ({ paths: called }) =>
      called?.length && called.every((path) => path.startsWith('agent.'))
        ? { headers: new Headers({ 'cache-control': 'no-store, no-transform' }) }
        : {},
    onError: ({ error, path, ctx }) => {
      // Internal failures reach clients as "internal error" with the request id (trpc.ts); the details
      // go to the log only, under that id.
      const log = ctx?.log ?? serverLog(services);
      if (error.code === 'INTERNAL_SERVER_ERROR')
        log.error({ path, err: error.cause ?? error }, 'unexpected error');
      else if (error.cause instanceof AppError && error.cause.internal)
        log.warn({ path, code: error.code, detail: error.cause.internal }, error.message);
    },
  });
}

function refuse(req: Request, paths: string[]): Response | null {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    const site = req.headers.get('sec-fetch-site');
    if (site && site !== 'same-origin' && site !== 'none') {
      return errorResponse(403, 'FORBIDDEN', `cross-site requests are refused (Sec-Fetch-Site: ${site})`);
    }
    const origin = req.headers.get('origin');
    if (origin && !sameOrigin(origin, req)) {
      return errorResponse(403, 'FORBIDDEN', 'requests from another origin are refused');
    }
    // Forms from other sites can only send form or text bodies; tRPC's client always sends JSON.
    const type = req.headers.get('content-type')?.split(';')[0]?.trim().toLowerCase();
    if (type !== 'application/json') {
      return errorResponse(415, 'UNSUPPORTED_MEDIA_TYPE', 'send the request body as application/json');
    }
  }
  if (paths.length > 1 && paths.includes('auth.signIn')) {
    return errorResponse(400, 'BAD_REQUEST', 'auth.signIn cannot be batched with other calls');
  }
  return null;
}

/** Whether `origin` is the origin the request was sent to (as the browser saw it, through proxies). */
function sameOrigin(origin: string, req: Request): boolean {
  const host = req.headers.get('x-forwarded-host') ?? req.headers.get('host') ?? new URL(req.url).host;
  try {
    return new URL(origin).host === host.split(',')[0]!.trim();
  } catch {
    return false;
  }
}

/** The body as text, or null as soon as it exceeds `limit` bytes (the rest is never read). */
async function readLimited(req: Request, limit: number): Promise<string | null> {
  if (Number(req.headers.get('content-length') ?? 0) > limit) return null;
  if (!req.body) return '';
  const reader = req.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  while (true) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel();
      return null;
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

const HTTP_CODES = {
  BAD_REQUEST: -32600,
  FORBIDDEN: -32003,
  PAYLOAD_TOO_LARGE: -32413,
  UNSUPPORTED_MEDIA_TYPE: -32415,
} as const;

/** An error in tRPC's envelope, so clients read it like any other. */
function errorResponse(status: number, code: keyof typeof HTTP_CODES, message: string): Response {
  return Response.json(
    { error: { message, code: HTTP_CODES[code], data: { code, httpStatus: status } } },
    { status },
  );
}
