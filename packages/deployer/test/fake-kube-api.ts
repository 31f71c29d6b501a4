// A recording fake of the few Kubernetes API endpoints the deployer calls, on 127.0.0.1. It proves
// the HTTP contract (paths, verbs, content types, query parameters, bodies, error handling), not
// Kubernetes semantics: apply simply stores the object it receives.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';

// biome-ignore lint/suspicious/noExplicitAny: the fake stores plain JSON.
type Json = any;

export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  contentType: string | undefined;
  authorization: string | undefined;
  body: Json;
}

interface Fault {
  method?: string;
  pathIncludes?: string;
  status?: number;
  body?: Json;
  /** Never answer (the client must time out). */
  hang?: boolean;
  times: number;
}

const RESOURCES: Record<string, { group: string; kind: string }> = {
  serviceaccounts: { group: 'api/v1', kind: 'ServiceAccount' },
  secrets: { group: 'api/v1', kind: 'Secret' },
  configmaps: { group: 'api/v1', kind: 'ConfigMap' },
  pods: { group: 'api/v1', kind: 'Pod' },
  deployments: { group: 'apis/apps/v1', kind: 'Deployment' },
  poddisruptionbudgets: { group: 'apis/policy/v1', kind: 'PodDisruptionBudget' },
};

function discovery(group: string): Json {
  return {
    kind: 'APIResourceList',
    apiVersion: 'v1',
    groupVersion: group.replace(/^apis?\//, ''),
    resources: Object.entries(RESOURCES)
      .filter(([, r]) => r.group === group)
      .map(([name, r]) => ({
        name,
        singularName: '',
        namespaced: true,
        kind: r.kind,
        verbs: ['get', 'list', 'patch', 'delete'],
      })),
  };
}

const status = (code: number, reason: string, message: string, extra: Json = {}) => ({
  kind: 'Status',
  apiVersion: 'v1',
  status: 'Failure',
  code,
  reason,
  message,
  ...extra,
});

function matches(labels: Record<string, string> | undefined, selector: string | undefined): boolean {
  if (!selector) return true;
  return selector.split(',').every((term) => {
    const [k, v] = term.split('=');
    return labels?.[k!] === v;
  });
}

function mergePatch(target: Json, patch: Json): Json {
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) return patch;
  const out = target && typeof target === 'object' && !Array.isArray(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

export interface FakeKubeApi {
  url: string;
  requests: RecordedRequest[];
  /** namespace/resource/name → object. */
  store: Map<string, Json>;
  namespaces: Set<string>;
  kubeConfig(): KubeConfig;
  fail(fault: Omit<Fault, 'times'> & { times?: number }): void;
  put(namespace: string, resource: string, object: Json): void;
  logs: Map<string, string>;
  close(): Promise<void>;
}

export async function startFakeKubeApi(options: { namespaces?: string[] } = {}): Promise<FakeKubeApi> {
  const requests: RecordedRequest[] = [];
  const store = new Map<string, Json>();
  const namespaces = new Set(options.namespaces ?? ['hubcap-agents']);
  const faults: Fault[] = [];
  const logs = new Map<string, string>();
  const hanging = new Set<ServerResponse>();
  let version = 1;

  const send = (res: ServerResponse, code: number, body: Json) => {
    res.writeHead(code, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };

  const handle = (req: IncomingMessage, res: ServerResponse, raw: string) => {
    const url = new URL(req.url ?? '/', 'http://fake');
    const contentType = req.headers['content-type'];
    let body: Json = raw;
    try {
      body = raw ? JSON.parse(raw) : undefined;
    } catch {}
    const record: RecordedRequest = {
      method: req.method ?? 'GET',
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      contentType,
      authorization: req.headers.authorization,
      body,
    };
    requests.push(record);

    const fault = faults.find(
      (f) =>
        f.times > 0 &&
        (!f.method || f.method === record.method) &&
        (!f.pathIncludes || url.pathname.includes(f.pathIncludes)),
    );
    if (fault) {
      fault.times--;
      if (fault.hang) {
        hanging.add(res);
        return;
      }
      return send(
        res,
        fault.status ?? 500,
        fault.body ?? status(fault.status ?? 500, 'InternalError', 'injected'),
      );
    }

    const path = url.pathname;
    if (
      req.method === 'GET' &&
      (path === '/api/v1' || path === '/apis/apps/v1' || path === '/apis/policy/v1')
    )
      return send(res, 200, discovery(path.slice(1)));

    const m =
      /^\/(api\/v1|apis\/apps\/v1|apis\/policy\/v1)\/namespaces\/([^/]+)\/([^/]+)(?:\/([^/]+))?(?:\/(log|scale))?$/.exec(
        path,
      );
    if (!m)
      return send(
        res,
        404,
        status(404, 'NotFound', `the server could not find the requested resource (${path})`),
      );
    const [, , namespace, resource, name, sub] = m as unknown as [
      string,
      string,
      string,
      string,
      string | undefined,
      string | undefined,
    ];
    const info = RESOURCES[resource];
    if (!info) return send(res, 404, status(404, 'NotFound', `no resource ${resource}`));
    if (!namespaces.has(namespace))
      return send(
        res,
        404,
        status(404, 'NotFound', `namespaces "${namespace}" not found`, {
          details: { name: namespace, kind: 'namespaces' },
        }),
      );
    const key = `${namespace}/${resource}/${name}`;

    if (sub === 'log' && req.method === 'GET') {
      res.writeHead(200, { 'content-type': 'text/plain' });
      return res.end(logs.get(name!) ?? '');
    }
    if (!name) {
      const selector = url.searchParams.get('labelSelector') ?? undefined;
      const items = [...store.entries()]
        .filter(
          ([k, o]) => k.startsWith(`${namespace}/${resource}/`) && matches(o.metadata?.labels, selector),
        )
        .map(([, o]) => o);
      if (req.method === 'GET')
        return send(res, 200, { kind: `${info.kind}List`, apiVersion: 'v1', metadata: {}, items });
      if (req.method === 'DELETE') {
        for (const item of items) store.delete(`${namespace}/${resource}/${item.metadata.name}`);
        return send(res, 200, { kind: 'Status', apiVersion: 'v1', status: 'Success', metadata: {} });
      }
    }
    const existing = store.get(key);
    if (req.method === 'GET') {
      if (!existing) return send(res, 404, status(404, 'NotFound', `${resource} "${name}" not found`));
      return send(res, 200, existing);
    }
    if (req.method === 'PATCH') {
      let next: Json;
      if (contentType === 'application/apply-patch+yaml') {
        next = { ...body, status: existing?.status };
      } else if (contentType === 'application/merge-patch+json') {
        if (!existing) return send(res, 404, status(404, 'NotFound', `${resource} "${name}" not found`));
        next = mergePatch(existing, body);
      } else {
        return send(res, 415, status(415, 'UnsupportedMediaType', `unsupported content type ${contentType}`));
      }
      next.metadata = { ...next.metadata, resourceVersion: String(++version) };
      store.set(key, next);
      return send(res, existing ? 200 : 201, next);
    }
    return send(res, 405, status(405, 'MethodNotAllowed', `${req.method} not handled by the fake`));
  };

  const server: Server = createServer((req, res) => {
    let raw = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => {
      raw += chunk;
    });
    req.on('end', () => handle(req, res, raw));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url,
    requests,
    store,
    namespaces,
    logs,
    kubeConfig() {
      const kc = new KubeConfig();
      kc.loadFromOptions({
        clusters: [{ name: 'fake', server: url, skipTLSVerify: true }],
        users: [{ name: 'hubcap', token: 'fake-bearer-token' }],
        contexts: [{ name: 'fake', cluster: 'fake', user: 'hubcap' }],
        currentContext: 'fake',
      });
      return kc;
    },
    fail(fault) {
      faults.push({ times: 1, ...fault });
    },
    put(namespace, resource, object) {
      store.set(`${namespace}/${resource}/${object.metadata.name}`, object);
    },
    async close() {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
