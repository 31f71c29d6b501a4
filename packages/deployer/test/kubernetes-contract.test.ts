// These tests check the deployer's HTTP contract with the Kubernetes API against a recording fake
// server: which requests it sends and how it reads answers and errors. They do not prove how a real
// cluster behaves (apply merge semantics, admission, scheduling): no API server can run here.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { KubernetesDeployer } from '../src/kubernetes/deployer.ts';
import { manifests } from '../src/manifests.ts';
import { DeployerError } from '../src/types.ts';
import { type FakeKubeApi, startFakeKubeApi } from './fake-kube-api.ts';
import { EH_SECRET, ordersConfig, STORAGE_SECRET, spec, TOKEN, target } from './fixtures.ts';

let api: FakeKubeApi;
let deployer: KubernetesDeployer;
const topic = spec().topic;
const NS = target.namespace;

beforeEach(async () => {
  api = await startFakeKubeApi();
  deployer = new KubernetesDeployer({ ...target, kubeConfig: api.kubeConfig(), requestTimeoutMs: 1000 });
});
afterEach(() => api.close());

const writes = () => api.requests.filter((r) => r.method !== 'GET');
const kinds = (requests = writes()) => requests.map((r) => `${r.method} ${r.path}`);

async function failure(promise: Promise<unknown>): Promise<DeployerError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(DeployerError);
  const message = (error as DeployerError).message;
  for (const secret of [EH_SECRET, STORAGE_SECRET, TOKEN]) expect(message).not.toContain(secret);
  return error as DeployerError;
}

describe('Kubernetes deployer HTTP contract (fake API server, not a cluster)', () => {
  it('checks every object with a server-side dry run, then applies them (field manager hubcap, force); twice changes nothing', async () => {
    const first = await deployer.apply(spec());
    expect(first.drift).toEqual(['Deployment/hubcap-agent-orders was missing']);
    const firstWrites = writes();
    const objects = [
      `/api/v1/namespaces/${NS}/serviceaccounts/hubcap-agent-orders`,
      `/api/v1/namespaces/${NS}/secrets/hubcap-agent-orders`,
      `/apis/policy/v1/namespaces/${NS}/poddisruptionbudgets/hubcap-agent-orders`,
      `/apis/apps/v1/namespaces/${NS}/deployments/hubcap-agent-orders`,
    ];
    expect(kinds(firstWrites)).toEqual([...objects, ...objects].map((path) => `PATCH ${path}`));
    expect(firstWrites.map((r) => r.query.dryRun)).toEqual([
      ...objects.map(() => 'All'),
      ...objects.map(() => undefined),
    ]);
    for (const request of firstWrites) {
      expect(request.contentType).toBe('application/apply-patch+yaml');
      expect(request.query).toMatchObject({ fieldManager: 'hubcap', force: 'true' });
      expect(request.authorization).toBe('Bearer fake-bearer-token');
    }
    // What reaches the server is exactly the generated objects: the client dropped nothing.
    expect(firstWrites.slice(4).map((r) => r.body)).toEqual(
      JSON.parse(JSON.stringify(manifests(spec(), target))),
    );

    const stored = api.store.get(`${NS}/deployments/hubcap-agent-orders`);
    api.requests.length = 0;
    const second = await deployer.apply(spec());
    // An unchanged redeploy: same objects, no drift, and the pod template (so the pods) untouched.
    expect(second.drift).toEqual([]);
    expect(writes().map((r) => r.body)).toEqual(firstWrites.map((r) => r.body));
    const again = api.store.get(`${NS}/deployments/hubcap-agent-orders`);
    expect(again.spec.template).toEqual(stored.spec.template);
    expect(again.metadata.generation).toBe(stored.metadata.generation);
    expect(api.store.size).toBe(4);
  });

  it('a new config version that agents take in place changes the Deployment but not its pods', async () => {
    await deployer.apply(spec());
    const before = api.store.get(`${NS}/deployments/hubcap-agent-orders`);
    const next = ordersConfig({ batching: { maxEvents: 5000 } });
    const status = await deployer.apply(spec(next, { configVersion: 4, agentToken: null }));
    const after = api.store.get(`${NS}/deployments/hubcap-agent-orders`);
    expect(after.spec.template).toEqual(before.spec.template);
    expect(after.metadata.annotations['hubcap.io/config-version']).toBe('4');
    expect(status.configVersion).toBe(4);
  });

  it('rolls out a new file layout with Recreate, and keeps Recreate until that rollout is done', async () => {
    await deployer.apply(spec());
    const key = `${NS}/deployments/hubcap-agent-orders`;
    expect(api.store.get(key).spec.strategy.type).toBe('RollingUpdate');
    const avro = ordersConfig({ format: { type: 'avro', codec: 'deflate' } });
    await deployer.apply(spec(avro, { configVersion: 4 }));
    const live = api.store.get(key);
    expect(live.spec.strategy).toEqual({ type: 'Recreate' });
    // Applied again while old pods still stop: not switched back to a rolling update mid-way.
    live.status = { observedGeneration: live.metadata.generation, replicas: 2, updatedReplicas: 0 };
    await deployer.apply(spec(avro, { configVersion: 4 }));
    expect(api.store.get(key).spec.strategy).toEqual({ type: 'Recreate' });
    const done = api.store.get(key);
    done.status = {
      observedGeneration: done.metadata.generation,
      replicas: 2,
      updatedReplicas: 2,
      readyReplicas: 2,
      availableReplicas: 2,
    };
    await deployer.apply(spec(avro, { configVersion: 5 }));
    expect(api.store.get(key).spec.strategy.type).toBe('RollingUpdate');
  });

  it('refuses the whole set when the dry run rejects one object: nothing applied, the cluster’s reason named', async () => {
    api.fail({
      method: 'PATCH',
      pathIncludes: '/deployments/',
      query: { dryRun: 'All' },
      status: 403,
      body: {
        kind: 'Status',
        code: 403,
        reason: 'Forbidden',
        message:
          'pods "hubcap-agent-orders" is forbidden: violates PodSecurity "restricted:latest": seccompProfile',
      },
    });
    const error = await failure(deployer.apply(spec()));
    expect(error.kind).toBe('forbidden');
    expect(error.message).toMatch(
      /^Deployment\/hubcap-agent-orders was refused: .*violates PodSecurity "restricted:latest".* Nothing was applied\.$/,
    );
    expect(error.applied).toEqual([]);
    expect(writes().filter((r) => !r.query.dryRun)).toEqual([]);
    expect(api.store.size).toBe(0);
  });

  it('removes what Hubcap no longer wants (a PDB turned off, an older ConfigMap), never what others made', async () => {
    await deployer.apply(spec());
    expect(api.store.has(`${NS}/poddisruptionbudgets/hubcap-agent-orders`)).toBe(true);
    const labels = api.store.get(`${NS}/secrets/hubcap-agent-orders`).metadata.labels;
    api.put(NS, 'configmaps', {
      metadata: {
        name: 'hubcap-agent-orders',
        labels,
        managedFields: [{ manager: 'hubcap', operation: 'Apply' }],
      },
    });
    api.put(NS, 'configmaps', {
      metadata: {
        name: 'someone-elses',
        labels,
        managedFields: [{ manager: 'kubectl', operation: 'Apply' }],
      },
    });
    const withoutPdb = new KubernetesDeployer({
      ...target,
      podDisruptionBudget: false,
      kubeConfig: api.kubeConfig(),
      requestTimeoutMs: 1000,
    });
    api.requests.length = 0;
    await withoutPdb.apply(spec(undefined, { agentToken: null }));
    expect(kinds(writes().filter((r) => r.method === 'DELETE'))).toEqual([
      `DELETE /apis/policy/v1/namespaces/${NS}/poddisruptionbudgets/hubcap-agent-orders`,
      `DELETE /api/v1/namespaces/${NS}/configmaps/hubcap-agent-orders`,
    ]);
    expect([...api.store.keys()].sort()).toEqual([
      `${NS}/configmaps/someone-elses`,
      `${NS}/deployments/hubcap-agent-orders`,
      `${NS}/secrets/hubcap-agent-orders`,
      `${NS}/serviceaccounts/hubcap-agent-orders`,
    ]);
  });

  it('reports drift when the live Deployment was changed by someone else, and re-applies', async () => {
    await deployer.apply(spec());
    const live = api.store.get(`${NS}/deployments/hubcap-agent-orders`);
    live.spec.replicas = 5;
    live.spec.template.metadata.annotations['hubcap.io/token-hash'] = 'edited';
    const again = await deployer.apply(spec());
    expect(again.drift).toEqual([
      'Deployment/hubcap-agent-orders ran pods with another agent token',
      'Deployment/hubcap-agent-orders had 5 replicas, expected 2',
    ]);
    expect(api.store.get(`${NS}/deployments/hubcap-agent-orders`).spec.replicas).toBe(2);
  });

  it('keeps the deployed agent token when re-applying without one, and says when there is none', async () => {
    const missing = await failure(deployer.apply(spec(undefined, { agentToken: null })));
    expect(missing.kind).toBe('missingToken');
    expect(writes()).toEqual([]);

    await deployer.apply(spec());
    api.requests.length = 0;
    await deployer.apply(spec(undefined, { agentToken: null }));
    const secret = writes().find((r) => r.path.includes('/secrets/'))!.body;
    expect(Buffer.from(secret.data['agent-token'], 'base64').toString()).toBe(TOKEN);
  });

  it('reads status: desired and ready replicas, pod phases, restarts, last termination reason', async () => {
    await deployer.apply(spec());
    const live = api.store.get(`${NS}/deployments/hubcap-agent-orders`);
    live.status = { replicas: 2, readyReplicas: 1, updatedReplicas: 2 };
    const labels = live.spec.template.metadata.labels;
    api.put(NS, 'pods', {
      metadata: { name: 'hubcap-agent-orders-abc', labels },
      status: {
        phase: 'Running',
        conditions: [{ type: 'Ready', status: 'True' }],
        containerStatuses: [{ name: 'agent', restartCount: 0, state: { running: {} } }],
      },
    });
    api.put(NS, 'pods', {
      metadata: { name: 'hubcap-agent-orders-def', labels },
      status: {
        phase: 'Running',
        conditions: [{ type: 'Ready', status: 'False' }],
        containerStatuses: [
          {
            name: 'agent',
            restartCount: 4,
            state: { waiting: { reason: 'CrashLoopBackOff' } },
            lastState: {
              terminated: { reason: 'OOMKilled', exitCode: 137, finishedAt: '2026-11-24T10:00:00Z' },
            },
          },
        ],
      },
    });
    api.put(NS, 'pods', {
      metadata: { name: 'other-topic', labels: { 'app.kubernetes.io/name': 'x' } },
      status: {},
    });

    const status = await deployer.status(topic);
    const podList = api.requests.find((r) => r.path === `/api/v1/namespaces/${NS}/pods`)!;
    expect(podList.query.labelSelector).toBe(
      'app.kubernetes.io/name=hubcap-agent,hubcap.io/topic-id=cm1topic0orders',
    );
    expect(status).toMatchObject({
      phase: 'failed',
      desiredReplicas: 2,
      readyReplicas: 1,
      configVersion: 3,
      message:
        '1/2 ready; pod hubcap-agent-orders-def is in CrashLoopBackOff (last exit: OOMKilled, code 137).',
    });
    expect(status.replicas).toEqual([
      { name: 'hubcap-agent-orders-abc', phase: 'Running', ready: true, restarts: 0 },
      {
        name: 'hubcap-agent-orders-def',
        phase: 'Running',
        ready: false,
        restarts: 4,
        waitingReason: 'CrashLoopBackOff',
        lastTermination: { reason: 'OOMKilled', exitCode: 137, finishedAt: '2026-11-24T10:00:00.000Z' },
      },
    ]);
    live.status = {
      observedGeneration: live.metadata.generation,
      replicas: 2,
      readyReplicas: 2,
      updatedReplicas: 2,
      availableReplicas: 2,
    };
    api.store.delete(`${NS}/pods/hubcap-agent-orders-def`);
    expect((await deployer.status(topic)).phase).toBe('running');
  });

  it('shows as failing, with the cluster’s reason, what will not fix itself (one status read)', async () => {
    await deployer.apply(spec());
    const live = api.store.get(`${NS}/deployments/hubcap-agent-orders`);
    const labels = live.spec.template.metadata.labels;
    const statusWith = async (pods: object[], conditions: object[] = []) => {
      live.status = {
        observedGeneration: live.metadata.generation,
        replicas: 2,
        updatedReplicas: 2,
        conditions,
      };
      for (const key of [...api.store.keys()]) if (key.includes('/pods/')) api.store.delete(key);
      for (const [i, status] of pods.entries())
        api.put(NS, 'pods', { metadata: { name: `hubcap-agent-orders-${i}`, labels }, status });
      return deployer.status(topic);
    };
    const quota = await statusWith(
      [],
      [
        {
          type: 'ReplicaFailure',
          status: 'True',
          reason: 'FailedCreate',
          message:
            'pods "hubcap-agent-orders-x" is forbidden: exceeded quota: agents, requested: memory=768Mi',
        },
      ],
    );
    expect(quota).toMatchObject({ phase: 'failed' });
    expect(quota.message).toBe(
      '0/2 ready; pods cannot be created (FailedCreate): pods "hubcap-agent-orders-x" is forbidden: exceeded quota: agents, requested: memory=768Mi.',
    );
    const pending = await statusWith([
      {
        phase: 'Pending',
        conditions: [
          {
            type: 'PodScheduled',
            status: 'False',
            reason: 'Unschedulable',
            message: '0/3 nodes are available: 3 Insufficient memory.',
          },
        ],
      },
    ]);
    expect(pending.phase).toBe('failed');
    expect(pending.message).toMatch(
      /pod hubcap-agent-orders-0 is in Unschedulable: 0\/3 nodes are available: 3 Insufficient memory\./,
    );
    const pull = await statusWith([
      {
        phase: 'Pending',
        containerStatuses: [
          {
            name: 'agent',
            restartCount: 0,
            state: { waiting: { reason: 'ErrImagePull', message: 'manifest for acme/agent:0.9 not found' } },
          },
        ],
      },
    ]);
    expect(pull.message).toMatch(/is in ErrImagePull: manifest for acme\/agent:0.9 not found/);
    // Between two crashes the container runs for a moment: still a crash loop.
    const crashing = await statusWith([
      {
        phase: 'Running',
        conditions: [{ type: 'Ready', status: 'False' }],
        containerStatuses: [
          {
            name: 'agent',
            restartCount: 5,
            state: { running: {} },
            lastState: { terminated: { reason: 'Error', exitCode: 2, message: 'no configuration' } },
          },
        ],
      },
    ]);
    expect(crashing.phase).toBe('failed');
    expect(crashing.message).toMatch(
      /keeps crashing \(5 restarts; last exit: Error, code 2: no configuration\)/,
    );
    const starting = await statusWith([
      { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'True' }] },
    ]);
    expect(starting.phase).toBe('applying');
  });

  it('says "deleted" when the topic has no Deployment', async () => {
    expect(await deployer.status(topic)).toMatchObject({ phase: 'deleted', desiredReplicas: 0 });
  });

  it('pauses with a merge patch to zero replicas and resumes to the replicas last applied', async () => {
    await deployer.apply(spec());
    api.requests.length = 0;
    expect((await deployer.pause(topic)).phase).toBe('paused');
    const [pause] = writes();
    expect(pause).toMatchObject({
      method: 'PATCH',
      path: `/apis/apps/v1/namespaces/${NS}/deployments/hubcap-agent-orders`,
      contentType: 'application/merge-patch+json',
      body: { spec: { replicas: 0 } },
    });
    api.requests.length = 0;
    const resumed = await deployer.resume(topic);
    expect(writes()[0]!.body.spec).toEqual({ replicas: 2 });
    expect(resumed.desiredReplicas).toBe(2);
  });

  it('pausing a topic that was never deployed is a clear not-found error', async () => {
    const error = await failure(deployer.pause(topic));
    expect(error.kind).toBe('notFound');
    expect(error.message).toMatch(/deploy the topic first/);
  });

  it('deletes every object of the topic by label, one collection per kind', async () => {
    await deployer.apply(spec());
    api.put(NS, 'configmaps', { metadata: { name: 'unrelated', labels: { app: 'x' } } });
    api.requests.length = 0;
    await deployer.remove(topic);
    const deletes = writes();
    expect(kinds(deletes)).toEqual([
      `DELETE /apis/batch/v1/namespaces/${NS}/jobs`,
      `DELETE /apis/apps/v1/namespaces/${NS}/deployments`,
      `DELETE /apis/policy/v1/namespaces/${NS}/poddisruptionbudgets`,
      `DELETE /api/v1/namespaces/${NS}/configmaps`,
      `DELETE /api/v1/namespaces/${NS}/secrets`,
      `DELETE /api/v1/namespaces/${NS}/serviceaccounts`,
    ]);
    for (const request of deletes)
      expect(request.query.labelSelector).toBe(
        'app.kubernetes.io/name=hubcap-agent,hubcap.io/topic-id=cm1topic0orders',
      );
    expect([...api.store.keys()]).toEqual([`${NS}/configmaps/unrelated`]);
  });

  it('reads recent log lines of every pod of the topic', async () => {
    await deployer.apply(spec());
    const labels = api.store.get(`${NS}/deployments/hubcap-agent-orders`).spec.template.metadata.labels;
    api.put(NS, 'pods', { metadata: { name: 'p1', labels }, status: { phase: 'Running' } });
    api.logs.set('p1', '2026-11-24T10:00:01Z {"msg":"ingesting"}\n2026-11-24T10:00:00Z {"msg":"starting"}\n');
    const lines = await deployer.logs(topic, { limit: 50 });
    expect(lines.map((l) => l.line)).toEqual(['{"msg":"starting"}', '{"msg":"ingesting"}']);
    const request = api.requests.find((r) => r.path.endsWith('/pods/p1/log'))!;
    expect(request.query).toMatchObject({ container: 'agent', tailLines: '50', timestamps: 'true' });
  });
});

describe('Kubernetes deployer error contract (fake API server, not a cluster)', () => {
  const cases: [number, string, RegExp][] = [
    [401, 'unauthorized', /rejected the control plane's credentials \(401 Unauthorized\)/],
    [
      403,
      'forbidden',
      /not allowed to check ServiceAccount\/hubcap-agent-orders \(server-side dry run\) in namespace "hubcap-agents" \(403 Forbidden\): secrets is forbidden.*RBAC/,
    ],
    [409, 'conflict', /Conflict while trying to check .* \(409\): Apply failed with 1 conflict/],
    [500, 'unavailable', /failed while trying to check .* \(500\).*try again/],
    [503, 'unavailable', /\(503\)/],
  ];
  for (const [code, kind, message] of cases) {
    it(`turns ${code} into a "${kind}" error with a clear message`, async () => {
      api.fail({
        method: 'PATCH',
        status: code,
        body: {
          kind: 'Status',
          code,
          message:
            code === 403
              ? 'secrets is forbidden: User "system:serviceaccount:hubcap:web" cannot patch resource'
              : code === 409
                ? 'Apply failed with 1 conflict: conflict with "kubectl" using apps/v1: .spec.replicas'
                : 'boom',
        },
      });
      const error = await failure(deployer.apply(spec()));
      expect(error.kind).toBe(kind);
      expect(error.status).toBe(code);
      expect(error.message).toMatch(message);
      expect(error.message).toMatch(/Nothing was applied/);
    });
  }

  it('turns a missing namespace (404) into a not-found error that names it', async () => {
    api.namespaces.clear();
    const error = await failure(deployer.apply(spec()));
    expect(error.kind).toBe('notFound');
    expect(error.message).toMatch(/namespaces "hubcap-agents" not found/);
  });

  it('turns 422 into an "invalid" error listing the fields; a failure after the dry run says what was and was not applied', async () => {
    api.fail({
      method: 'PATCH',
      pathIncludes: '/poddisruptionbudgets/',
      real: true,
      status: 422,
      body: {
        kind: 'Status',
        code: 422,
        reason: 'Invalid',
        message: 'PodDisruptionBudget.policy "hubcap-agent-orders" is invalid',
        details: { causes: [{ field: 'spec.maxUnavailable', message: 'Invalid value' }] },
      },
    });
    const error = await failure(deployer.apply(spec()));
    expect(error.kind).toBe('invalid');
    expect(error.message).toMatch(
      /PodDisruptionBudget.policy "hubcap-agent-orders" is invalid; spec.maxUnavailable: Invalid value/,
    );
    expect(error.applied).toEqual(['ServiceAccount/hubcap-agent-orders', 'Secret/hubcap-agent-orders']);
    expect(error.notApplied).toEqual([
      'PodDisruptionBudget/hubcap-agent-orders',
      'Deployment/hubcap-agent-orders',
    ]);
    expect(error.message).toMatch(
      /Applied before the failure: ServiceAccount\/hubcap-agent-orders, Secret\/hubcap-agent-orders\. Not applied: PodDisruptionBudget/,
    );
  });

  it('times out on an API server that does not answer', async () => {
    api.fail({ method: 'GET', hang: true });
    const started = Date.now();
    const error = await failure(deployer.status(topic));
    expect(error.kind).toBe('timeout');
    expect(error.message).toMatch(
      /did not answer within 1 s while trying to read Deployment\/hubcap-agent-orders/,
    );
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('says the API is unreachable when nothing listens', async () => {
    const url = api.url;
    await api.close();
    const kc = api.kubeConfig();
    kc.clusters[0] = { ...kc.clusters[0]!, server: url };
    const offline = new KubernetesDeployer({ ...target, kubeConfig: kc, requestTimeoutMs: 1000 });
    const error = await failure(offline.status(topic));
    expect(error.kind).toBe('unavailable');
    expect(error.message).toMatch(/Cannot reach the Kubernetes API \(ECONNREFUSED\)/);
    api = await startFakeKubeApi();
  });

  it('keeps deleting the other kinds when one fails, then says which', async () => {
    await deployer.apply(spec());
    api.fail({
      method: 'DELETE',
      pathIncludes: '/secrets',
      status: 403,
      body: { message: 'secrets is forbidden' },
    });
    const error = await failure(deployer.remove(topic));
    expect(error.kind).toBe('forbidden');
    expect(error.message).toMatch(
      /Deleted: Jobs, Deployments, PodDisruptionBudgets, ConfigMaps, ServiceAccounts; delete the rest again/,
    );
    expect([...api.store.keys()]).toEqual([`${NS}/secrets/hubcap-agent-orders`]);
  });
});
