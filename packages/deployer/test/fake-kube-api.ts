// A recording fake of the few Kubernetes API endpoints the deployer calls, on 127.0.0.1. It proves
// the HTTP contract (paths, verbs, content types, query parameters, bodies, error handling), not
// Kubernetes semantics: apply stores the object it receives. It refuses what a real API server is
// known to refuse: apply without a field manager, an unknown dryRun value, a body whose kind, name or
// namespace does not match the URL, objects that fail schema validation (kubernetes-models plus the
// checks in validate.ts: unknown fields, selectors, names, Recreate with rollingUpdate) and a changed
// Deployment selector (immutable). It records managedFields per field manager and bumps a
// Deployment's generation when its spec changes, as the API server does. A dry run stores nothing.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';
import { manifestProblems } from './validate.ts';

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
  /** Only requests with these query parameters (e.g. `{ dryRun: 'All' }`). */
  query?: Record<string, string>;
  /** Only requests without a dryRun parameter. */
  real?: boolean;
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
  jobs: { group: 'apis/batch/v1', kind: 'Job' },
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

/** What the API server answers to an apply body that does not fit its URL; null when it fits. */
function applyProblems(body: Json, kind: string, namespace: string, name: string): Json | null {
  if (body?.kind !== kind)
    return status(
      400,
      'BadRequest',
      `the kind of the object (${body?.kind}) does not match the URL (${kind})`,
    );
  if (body.metadata?.name !== name)
    return status(
      400,
      'BadRequest',
      `the name of the object (${body.metadata?.name}) does not match the name on the URL (${name})`,
    );
  if (body.metadata?.namespace !== undefined && body.metadata.namespace !== namespace)
    return status(
      400,
      'BadRequest',
      'the namespace of the provided object does not match the namespace sent on the request',
    );
  return null;
}

/**
 * What the API server refuses of a batch/v1 Job beyond the schema: a pod restart policy other than
 * Never or OnFailure, and any change to the pod template or selector of an existing Job (immutable).
 */
function jobProblems(existing: Json, next: Json, name: string): string | null {
  // The Job's name becomes a label value of its pods.
  if (name.length > 63)
    return `Job.batch "${name}" is invalid: metadata.name: must be no more than 63 characters`;
  const policy = next.spec?.template?.spec?.restartPolicy;
  if (policy !== 'Never' && policy !== 'OnFailure')
    return `Job.batch "${name}" is invalid: spec.template.spec.restartPolicy: Required value: valid values: "OnFailure", "Never"`;
  if (existing && JSON.stringify(existing.spec?.template) !== JSON.stringify(next.spec?.template))
    return `Job.batch "${name}" is invalid: spec.template: Invalid value: field is immutable`;
  return null;
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
        (!f.pathIncludes || url.pathname.includes(f.pathIncludes)) &&
        Object.entries(f.query ?? {}).every(([k, v]) => url.searchParams.get(k) === v) &&
        (!f.real || !url.searchParams.has('dryRun')),
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
      (path === '/api/v1' ||
        path === '/apis/apps/v1' ||
        path === '/apis/policy/v1' ||
        path === '/apis/batch/v1')
    )
      return send(res, 200, discovery(path.slice(1)));

    const m =
      /^\/(api\/v1|apis\/apps\/v1|apis\/policy\/v1|apis\/batch\/v1)\/namespaces\/([^/]+)\/([^/]+)(?:\/([^/]+))?(?:\/(log|scale))?$/.exec(
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
    if (req.method === 'DELETE') {
      if (!existing) return send(res, 404, status(404, 'NotFound', `${resource} "${name}" not found`));
      store.delete(key);
      return send(res, 200, { kind: 'Status', apiVersion: 'v1', status: 'Success', metadata: {} });
    }
    if (req.method === 'PATCH') {
      const dryRun = url.searchParams.get('dryRun');
      if (dryRun !== null && dryRun !== 'All')
        return send(
          res,
          400,
          status(400, 'BadRequest', `Unsupported value: "${dryRun}": supported values: "All"`),
        );
      const manager = url.searchParams.get('fieldManager');
      let next: Json;
      let operation: 'Apply' | 'Update';
      if (contentType === 'application/apply-patch+yaml') {
        if (!manager)
          return send(
            res,
            400,
            status(400, 'BadRequest', 'PATCH, application/apply-patch+yaml: fieldManager is required'),
          );
        const refused = applyProblems(body, info.kind, namespace, name!);
        if (refused) return send(res, refused.code, refused);
        next = { ...body, status: existing?.status };
        operation = 'Apply';
      } else if (contentType === 'application/merge-patch+json') {
        if (!existing) return send(res, 404, status(404, 'NotFound', `${resource} "${name}" not found`));
        next = mergePatch(existing, body);
        operation = 'Update';
      } else {
        return send(res, 415, status(415, 'UnsupportedMediaType', `unsupported content type ${contentType}`));
      }
      const { status: _status, ...object } = next;
      const invalid = manifestProblems([object], { alone: true });
      if (invalid.length)
        return send(
          res,
          422,
          status(422, 'Invalid', `${info.kind} "${name}" is invalid: ${invalid.join('; ')}`),
        );
      if (
        info.kind === 'Deployment' &&
        existing &&
        JSON.stringify(existing.spec?.selector) !== JSON.stringify(next.spec?.selector)
      )
        return send(
          res,
          422,
          status(
            422,
            'Invalid',
            `Deployment.apps "${name}" is invalid: spec.selector: Invalid value: field is immutable`,
          ),
        );
      const jobRefused = info.kind === 'Job' ? jobProblems(existing, next, name!) : null;
      if (jobRefused) return send(res, 422, status(422, 'Invalid', jobRefused));
      const generation = existing?.metadata?.generation ?? 0;
      const specChanged = JSON.stringify(existing?.spec) !== JSON.stringify(next.spec);
      const managedFields = [
        ...(existing?.metadata?.managedFields ?? []).filter(
          (f: Json) => f.manager !== (manager ?? 'unknown'),
        ),
        { manager: manager ?? 'unknown', operation, apiVersion: next.apiVersion, fieldsType: 'FieldsV1' },
      ];
      next.metadata = {
        ...next.metadata,
        managedFields,
        generation: specChanged ? generation + 1 : generation,
        resourceVersion: dryRun ? existing?.metadata?.resourceVersion : String(++version),
      };
      if (!dryRun) store.set(key, next);
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
