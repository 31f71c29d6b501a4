import { EventHubProducerClient } from '@azure/event-hubs';

/** A deterministic pseudo-random generator (mulberry32): same seed, same sequence. */
export type Rng = () => number;

export function createRng(seed: number): Rng {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface ApiGatewayEvent {
  timestamp: string;
  requestId: string;
  method: string;
  path: string;
  status: number;
  latencyMs: number;
  bytesSent: number;
  service: { name: string; version: string; instance: string };
  upstream: { host: string; latencyMs: number; retries: number };
  user: { id: string; name: string; plan: string; country: string; authenticated: boolean };
  headers: Record<string, string>;
  tags: string[];
  /** Only in the share of events generated after `newFieldAfter`: a field that appears later. */
  geo?: { region: string; city: string; latitude: number; longitude: number };
}

export interface SampleEventOptions {
  /** Share (0..1) of events from `newFieldAfter` on that carry the `geo` field. Default 0.3. */
  newFieldShare?: number;
  /** Index from which the new field may appear. Default 0. */
  newFieldAfter?: number;
  /** Share (0..1) of events whose body is a plain-text log line instead of JSON. Default 0.01. */
  nonJsonShare?: number;
  /** Event time; by default 10 ms per index after 2025-01-01, so output is fully reproducible. */
  timestamp?: number;
}

export interface SampleEvent {
  index: number;
  /** UTF-8 bytes of the body as sent. */
  body: Buffer;
  /** The parsed event, or undefined for a non-JSON body. */
  json: ApiGatewayEvent | undefined;
}

const METHODS = ['GET', 'GET', 'GET', 'GET', 'POST', 'POST', 'PUT', 'DELETE', 'PATCH'];
const ROUTES = [
  '/api/v1/orders',
  '/api/v1/orders/{id}',
  '/api/v1/customers/{id}',
  '/api/v1/products',
  '/api/v1/products/{id}/reviews',
  '/api/v2/search',
  '/api/v2/cart/{id}/items',
  '/health',
];
const STATUSES = [200, 200, 200, 200, 200, 200, 201, 204, 301, 400, 401, 403, 404, 409, 429, 500, 502, 503];
const PLANS = ['free', 'free', 'pro', 'team', 'enterprise'];
const COUNTRIES = ['US', 'DE', 'FR', 'GB', 'JP', 'BR', 'IN', 'CA', 'NL', 'SE'];
const FIRST = ['Ada', 'Grace', 'Alan', 'Edsger', 'Barbara', 'Ken', 'Margaret', 'Linus', 'Radia', 'Donald'];
const LAST = [
  'Lovelace',
  'Hopper',
  'Turing',
  'Dijkstra',
  'Liskov',
  'Thompson',
  'Hamilton',
  'Torvalds',
  'Perlman',
];
const AGENTS = [
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15',
  'Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0',
  'okhttp/4.12.0',
  'python-requests/2.31.0',
  'curl/8.5.0',
];
const TAGS = ['mobile', 'web', 'partner', 'internal', 'beta', 'cached', 'retry', 'canary', 'eu', 'us'];
const REGIONS = [
  { region: 'eu-west', city: 'Dublin', latitude: 53.35, longitude: -6.26 },
  { region: 'us-east', city: 'Ashburn', latitude: 39.04, longitude: -77.49 },
  { region: 'ap-northeast', city: 'Tokyo', latitude: 35.68, longitude: 139.69 },
  { region: 'sa-east', city: 'Sao Paulo', latitude: -23.55, longitude: -46.63 },
];
const SERVICES = ['orders-api', 'catalog-api', 'payments-api', 'search-api', 'cart-api'];
const BROWSER_HINTS = [
  '"Chromium";v="124", "Google Chrome";v="124", "Not-A.Brand";v="99"',
  '"Microsoft Edge";v="124", "Chromium";v="124", "Not-A.Brand";v="99"',
  '"Firefox";v="125"',
];
const BASE_TIME = Date.UTC(2025, 0, 1);

function pick<T>(rng: Rng, items: readonly T[]): T {
  return items[Math.floor(rng() * items.length)]!;
}

function hex(rng: Rng, length: number): string {
  let s = '';
  while (s.length < length)
    s += Math.floor(rng() * 0x100000000)
      .toString(16)
      .padStart(8, '0');
  return s.slice(0, length);
}

/**
 * Generates event number `i` from `rng`. Pure: the same index, generator state and options give
 * the same bytes, so tests and benchmarks elsewhere can rebuild exactly what was sent.
 */
export function sampleEvent(i: number, rng: Rng, options: SampleEventOptions = {}): SampleEvent {
  const newFieldShare = options.newFieldShare ?? 0.3;
  const newFieldAfter = options.newFieldAfter ?? 0;
  const nonJsonShare = options.nonJsonShare ?? 0.01;
  const time = options.timestamp ?? BASE_TIME + i * 10;
  const method = pick(rng, METHODS);
  const path = pick(rng, ROUTES).replace('{id}', String(Math.floor(rng() * 100000)));
  const status = pick(rng, STATUSES);
  const latencyMs = Math.round((5 + rng() ** 3 * 2000) * 10) / 10;
  const requestId = `${hex(rng, 8)}-${hex(rng, 4)}-${hex(rng, 4)}-${hex(rng, 4)}-${hex(rng, 12)}`;
  const nonJson = rng() < nonJsonShare;
  const withNewField = i >= newFieldAfter && rng() < newFieldShare;
  if (nonJson) {
    const line = `${new Date(time).toISOString()} ${method} ${path} ${status} ${latencyMs}ms req=${requestId} (plain-text access log line)`;
    return { index: i, body: Buffer.from(line, 'utf8'), json: undefined };
  }
  const userNo = Math.floor(rng() * 50000);
  const event: ApiGatewayEvent = {
    timestamp: new Date(time).toISOString(),
    requestId,
    method,
    path,
    status,
    latencyMs,
    bytesSent: Math.floor(rng() * 50000),
    service: {
      name: '',
      version: `v1.${Math.floor(rng() * 60)}.${Math.floor(rng() * 10)}`,
      instance: hex(rng, 10),
    },
    upstream: { host: '', latencyMs: 0, retries: rng() < 0.95 ? 0 : 1 + Math.floor(rng() * 2) },
    user: {
      id: `u-${userNo}`,
      name: `${pick(rng, FIRST)} ${pick(rng, LAST)}`,
      plan: pick(rng, PLANS),
      country: pick(rng, COUNTRIES),
      authenticated: rng() < 0.8,
    },
    headers: {
      'user-agent': pick(rng, AGENTS),
      accept: 'application/json, text/plain, */*',
      'accept-language': 'en-US,en;q=0.9,de;q=0.8',
      'x-forwarded-for': `${Math.floor(rng() * 223) + 1}.${Math.floor(rng() * 256)}.${Math.floor(rng() * 256)}.${Math.floor(rng() * 256)}`,
      'x-request-id': requestId,
      'x-correlation-id': hex(rng, 32),
      traceparent: `00-${hex(rng, 32)}-${hex(rng, 16)}-01`,
      'content-type': method === 'GET' ? 'application/json' : 'application/json; charset=utf-8',
      'sec-ch-ua': pick(rng, BROWSER_HINTS),
      'x-api-key-id': `key_${hex(rng, 16)}`,
    },
    tags: Array.from({ length: 1 + Math.floor(rng() * 3) }, () => pick(rng, TAGS)),
  };
  const service = pick(rng, SERVICES);
  event.service.name = service;
  event.upstream.host = `${service}-${event.service.instance.slice(0, 5)}.svc.cluster.local:8080`;
  event.upstream.latencyMs = Math.round(latencyMs * 0.8 * 10) / 10;
  if (withNewField) event.geo = pick(rng, REGIONS);
  return { index: i, body: Buffer.from(JSON.stringify(event), 'utf8'), json: event };
}

export interface SampleTrafficOptions extends Omit<SampleEventOptions, 'timestamp'> {
  connectionString: string;
  hub?: string;
  /** Target rate. Without it (and with `count`) events are sent as fast as the producer can. */
  eventsPerSecond?: number;
  /** Stop after this many events. Without it (and without a rate) 100 events/s are sent until stopped. */
  count?: number;
  /** Seed for the generator; the same seed sends the same events. Default 1. */
  seed?: number;
  /** Send every event to this partition instead of letting the service choose. */
  partitionId?: string;
  /** Use real time stamps instead of the reproducible synthetic ones. Default true. */
  liveTimestamps?: boolean;
}

export interface SampleTraffic {
  done: Promise<{ sent: number }>;
  stop(): Promise<void>;
}

/** Sends generated API-gateway events with the official producer, in batches. */
export function startSampleTraffic(options: SampleTrafficOptions): SampleTraffic {
  const producer =
    options.hub === undefined
      ? new EventHubProducerClient(options.connectionString)
      : new EventHubProducerClient(options.connectionString, options.hub);
  const rng = createRng(options.seed ?? 1);
  const rate = options.eventsPerSecond ?? (options.count === undefined ? 100 : undefined);
  const count = options.count ?? Number.POSITIVE_INFINITY;
  const live = options.liveTimestamps ?? true;
  const batchOptions = options.partitionId === undefined ? {} : { partitionId: options.partitionId };
  let stopped = false;
  let sent = 0;
  let wake: (() => void) | undefined;
  let timer: NodeJS.Timeout | undefined;

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      wake = resolve;
      timer = setTimeout(resolve, ms);
    });

  const run = async (): Promise<{ sent: number }> => {
    try {
      const started = Date.now();
      let pending: SampleEvent | undefined;
      while (!stopped && sent < count) {
        // How many events the schedule allows right now.
        const due = rate === undefined ? count : Math.floor(((Date.now() - started) / 1000) * rate) + 1;
        if (sent >= due) {
          await sleep(Math.max(1, ((sent + 1) / (rate ?? 1)) * 1000 - (Date.now() - started)));
          continue;
        }
        const batch = await producer.createBatch(batchOptions);
        let inBatch = 0;
        while (sent + inBatch < Math.min(due, count)) {
          const i = sent + inBatch;
          pending ??= sampleEvent(i, rng, { ...options, ...(live ? { timestamp: Date.now() } : {}) });
          if (
            !batch.tryAdd({
              body: pending.body,
              contentType: pending.json ? 'application/json' : 'text/plain',
            })
          )
            break;
          pending = undefined;
          inBatch++;
        }
        if (inBatch === 0) throw new Error('A generated event does not fit in an empty batch.');
        await producer.sendBatch(batch);
        sent += inBatch;
      }
      return { sent };
    } finally {
      await producer.close();
    }
  };

  const done = run();
  return {
    done,
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      wake?.();
      await done.catch(() => {});
    },
  };
}
