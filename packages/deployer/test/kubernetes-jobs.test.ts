// One-off runs (replays) as batch/v1 Jobs, against the recording fake of the Kubernetes API, which
// refuses what the API server refuses of a Job (schema, restart policy, name length, a changed pod
// template or selector).
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { KubernetesDeployer } from '../src/kubernetes/deployer.ts';
import { jobManifests } from '../src/manifests.ts';
import type { AgentJobSpec } from '../src/types.ts';
import { type FakeKubeApi, startFakeKubeApi } from './fake-kube-api.ts';
import { ordersConfig, spec, TOKEN, target } from './fixtures.ts';
import { manifestProblems } from './validate.ts';

let api: FakeKubeApi;
let deployer: KubernetesDeployer;
const topic = spec().topic;
const NS = target.namespace;
const RUN_TOKEN = 'hca_replay-token-123';
const JOB = 'hubcap-replay-cm1replay0000000000000000';

const job = (extra: Partial<AgentJobSpec> = {}): AgentJobSpec => ({
  topic,
  name: 'replay-cm1replay0000000000000000',
  config: ordersConfig(),
  configVersion: 3,
  agentToken: RUN_TOKEN,
  env: { HUBCAP_REPLAY_ID: 'cm1replay0000000000000000' },
  ...extra,
});

beforeEach(async () => {
  api = await startFakeKubeApi();
  deployer = new KubernetesDeployer({ ...target, kubeConfig: api.kubeConfig(), requestTimeoutMs: 1000 });
});
afterEach(() => api.close());

const writes = () => api.requests.filter((r) => r.method !== 'GET').map((r) => `${r.method} ${r.path}`);

describe('Kubernetes one-off runs (fake API server, not a cluster)', () => {
  it('applies the ServiceAccount, a Secret with the run token and a Job the pod of which is the agent told its run', async () => {
    const objects = jobManifests(job(), target);
    expect(manifestProblems(objects)).toEqual([]);
    const status = await deployer.runJob(job());
    expect(status).toEqual({ phase: 'running', restarts: 0, message: 'Running.' });
    expect(writes()).toEqual([
      `PATCH /api/v1/namespaces/${NS}/serviceaccounts/hubcap-agent-orders`,
      `PATCH /api/v1/namespaces/${NS}/secrets/${JOB}`,
      `PATCH /apis/batch/v1/namespaces/${NS}/jobs/${JOB}`,
    ]);
    const stored = api.store.get(`${NS}/jobs/${JOB}`);
    expect(stored.spec).toMatchObject({ backoffLimit: 6, template: { spec: { restartPolicy: 'Never' } } });
    const container = stored.spec.template.spec.containers[0];
    expect(container.readinessProbe).toBeUndefined();
    expect(container.env).toEqual(
      expect.arrayContaining([
        { name: 'HUBCAP_REPLAY_ID', value: 'cm1replay0000000000000000' },
        { name: 'HUBCAP_AGENT_TOKEN', valueFrom: { secretKeyRef: { name: JOB, key: 'agent-token' } } },
      ]),
    );
    // The run's pods are not the Deployment's: its selector and PodDisruptionBudget never count them.
    expect(stored.spec.template.metadata.labels['app.kubernetes.io/name']).toBe('hubcap-replay');
    const secret = api.store.get(`${NS}/secrets/${JOB}`);
    expect(Buffer.from(secret.data['agent-token'], 'base64').toString()).toBe(RUN_TOKEN);
    expect(JSON.stringify(stored)).not.toContain(RUN_TOKEN);
    expect(JSON.stringify(stored)).not.toContain(TOKEN);

    // Starting it again changes nothing (a Job's pod template is immutable).
    api.requests.length = 0;
    await deployer.runJob(job({ env: { HUBCAP_REPLAY_ID: 'other' } }));
    expect(writes()).toEqual([]);
  });

  it('reads the Job status Kubernetes reports: running, failed attempts, complete, failed, gone', async () => {
    await deployer.runJob(job());
    const key = `${NS}/jobs/${JOB}`;
    const setStatus = (status: object) => api.store.set(key, { ...api.store.get(key), status });
    setStatus({ active: 1, failed: 2 });
    expect(await deployer.jobStatus(topic, job().name)).toEqual({
      phase: 'running',
      restarts: 2,
      message: 'Running (attempt 3).',
    });
    setStatus({ succeeded: 1, conditions: [{ type: 'Complete', status: 'True' }] });
    expect((await deployer.jobStatus(topic, job().name)).phase).toBe('succeeded');
    setStatus({
      failed: 7,
      conditions: [
        {
          type: 'Failed',
          status: 'True',
          reason: 'BackoffLimitExceeded',
          message: 'Job has reached the specified backoff limit',
        },
      ],
    });
    expect(await deployer.jobStatus(topic, job().name)).toEqual({
      phase: 'failed',
      restarts: 7,
      message: 'Failed: BackoffLimitExceeded Job has reached the specified backoff limit',
    });
    await deployer.removeJob(topic, job().name);
    expect(api.store.has(key)).toBe(false);
    expect(api.store.has(`${NS}/secrets/${JOB}`)).toBe(false);
    expect((await deployer.jobStatus(topic, job().name)).phase).toBe('deleted');
    // Removing one already gone is fine.
    await deployer.removeJob(topic, job().name);
  });

  it('removing the topic removes its runs', async () => {
    await deployer.apply(spec());
    await deployer.runJob(job());
    await deployer.remove(topic);
    expect([...api.store.keys()].filter((k) => k.includes('/jobs/') || k.includes('/secrets/'))).toEqual([]);
  });

  it('the fake refuses what the API server refuses of a Job', async () => {
    const object = jobManifests(job(), target)[2]!;
    const apply = (body: object, name = JOB) =>
      fetch(`${api.url}/apis/batch/v1/namespaces/${NS}/jobs/${name}?fieldManager=hubcap`, {
        method: 'PATCH',
        headers: { 'content-type': 'application/apply-patch+yaml', authorization: 'Bearer x' },
        body: JSON.stringify(body),
      });
    const template = (object as { spec: { template: { spec: object } } }).spec.template;
    const withPolicy = (restartPolicy: string) => ({
      ...object,
      spec: {
        ...(object as { spec: object }).spec,
        template: { ...template, spec: { ...template.spec, restartPolicy } },
      },
    });
    expect((await apply(withPolicy('Always'))).status).toBe(422);
    expect((await apply(object)).status).toBe(201);
    const changed = await apply(withPolicy('OnFailure'));
    expect(changed.status).toBe(422);
    expect(((await changed.json()) as { message: string }).message).toContain('field is immutable');
    const long = `hubcap-${'x'.repeat(60)}`;
    expect((await apply({ ...object, metadata: { ...object.metadata, name: long } }, long)).status).toBe(422);
  });
});
