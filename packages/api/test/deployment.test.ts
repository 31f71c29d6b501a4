import type { AgentDeploymentSpec, Deployer, DeploymentStatus, TopicRef } from '@hubcap/deployer';
import { DeployerError } from '@hubcap/deployer';
import type { TopicConfigInput } from '@hubcap/shared';
import { TRPCError } from '@trpc/server';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { type ApiServices, createContext } from '../src/context.ts';
import { appRouter } from '../src/root.ts';
import { reconcileDeployments } from '../src/services/deployments.ts';
import { createTopic, issueAgentToken } from '../src/services/topics.ts';
import { type Harness, startHarness } from './harness.ts';

const EH_SECRET =
  'Endpoint=sb://contoso.servicebus.windows.net/;SharedAccessKeyName=listen;SharedAccessKey=EH-KEY-123';
const STORAGE_SECRET = 'DefaultEndpointsProtocol=https;AccountName=lake;AccountKey=STORAGE-KEY-456';

const config: TopicConfigInput = {
  topic: 'orders',
  source: {
    fullyQualifiedNamespace: 'contoso.servicebus.windows.net',
    eventHubName: 'orders',
    auth: { kind: 'connectionString', connectionString: EH_SECRET },
  },
  destination: {
    kind: 'azureBlob',
    account: { kind: 'connectionString', connectionString: STORAGE_SECRET },
    container: 'raw',
  },
  scaling: { replicas: 2 },
};

const ok = (phase: DeploymentStatus['phase'], extra: Partial<DeploymentStatus> = {}): DeploymentStatus => ({
  target: 'kubernetes',
  phase,
  desiredReplicas: 2,
  readyReplicas: phase === 'running' ? 2 : 0,
  configVersion: 1,
  replicas: [],
  message: `${phase}.`,
  drift: [],
  observedAt: new Date().toISOString(),
  ...extra,
});

/** A deployer that does what each test scripts, and records what it was asked. */
class ScriptedDeployer implements Deployer {
  readonly target = 'kubernetes' as const;
  calls: { op: string; spec?: AgentDeploymentSpec; topic?: TopicRef }[] = [];
  next: Partial<Record<'apply' | 'pause' | 'resume' | 'remove' | 'status', (() => DeploymentStatus)[]>> = {};

  #run(op: keyof ScriptedDeployer['next'], fallback: DeploymentStatus): DeploymentStatus {
    const step = this.next[op]?.shift();
    return step ? step() : fallback;
  }
  async apply(spec: AgentDeploymentSpec) {
    this.calls.push({ op: 'apply', spec });
    return this.#run('apply', ok('applying'));
  }
  async pause(topic: TopicRef) {
    this.calls.push({ op: 'pause', topic });
    return this.#run('pause', ok('paused', { desiredReplicas: 0 }));
  }
  async resume(topic: TopicRef) {
    this.calls.push({ op: 'resume', topic });
    return this.#run('resume', ok('applying'));
  }
  async remove(topic: TopicRef) {
    this.calls.push({ op: 'remove', topic });
    this.#run('remove', ok('deleted'));
  }
  async status(topic: TopicRef) {
    this.calls.push({ op: 'status', topic });
    return this.#run('status', ok('running'));
  }
}

let api: Harness;
let deployer: ScriptedDeployer;
let services: ApiServices;
let topicId: string;

const caller = async (cookie: string, overrides: Partial<ApiServices> = {}) => {
  const headers = new Headers({ cookie });
  const ctx = await createContext(
    { ...services, ...overrides },
    { url: 'http://hubcap.test/', headers },
    new Headers(),
  );
  return appRouter.createCaller(ctx);
};

async function trpcError(promise: Promise<unknown>): Promise<TRPCError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(TRPCError);
  return error as TRPCError;
}

beforeEach(async () => {
  api = await startHarness();
  deployer = new ScriptedDeployer();
  services = {
    prisma: api.prisma,
    secrets: api.secrets,
    deployer,
    manifestTarget: { namespace: 'agents', image: 'registry.example/hubcap-agent:1.2.3' },
  };
  ({ id: topicId } = await createTopic(api.prisma, api.secrets, config, { actor: 'system' }));
});
afterEach(() => api.close());

describe('deployment router', () => {
  it('refuses to start agents of a topic that shares its consumer group with another (saved before that was refused)', async () => {
    const { id } = await createTopic(
      api.prisma,
      api.secrets,
      { ...config, topic: 'clicks', source: { ...config.source, eventHubName: 'clicks' } },
      { actor: 'system' },
    );
    const orders = await api.prisma.topic.findUniqueOrThrow({ where: { id: topicId } });
    await api.prisma.topic.update({ where: { id }, data: { sourceKey: orders.sourceKey } });
    const editor = await caller(await api.signedIn('editor'));
    deployer.calls = [];
    const error = await trpcError(editor.deployment.deploy({ topic: 'clicks' }));
    expect(error.code).toBe('CONFLICT');
    expect(error.message).toBe(
      'topic "orders" reads the same event hub with the same consumer group: give one of them its own consumer group before starting agents',
    );
    expect(deployer.calls).toEqual([]);
    expect(await api.prisma.deployment.count()).toBe(0);
  });

  it('lets editors deploy: a fresh token, the config with secrets to the deployer, older tokens revoked, recorded and audited', async () => {
    const { agentId: oldAgent } = await issueAgentToken(api.prisma, topicId, 'old');
    const editor = await caller(await api.signedIn('editor'));
    const status = await editor.deployment.deploy({ topic: 'orders' });
    expect(status.phase).toBe('applying');
    const spec = deployer.calls[0]!.spec!;
    expect(spec.topic).toEqual({ id: topicId, name: 'orders' });
    expect(spec.config.source.auth).toEqual({ kind: 'connectionString', connectionString: EH_SECRET });
    expect(spec.agentToken).toMatch(/^hca_/);
    const agents = await api.prisma.agentInstance.findMany({ where: { topicId } });
    expect(agents.find((a) => a.id === oldAgent)?.revokedAt).not.toBeNull();
    expect(agents.filter((a) => !a.revokedAt)).toHaveLength(1);
    expect(await api.prisma.deployment.findUnique({ where: { topicId } })).toMatchObject({
      target: 'kubernetes',
      phase: 'applying',
      configVersion: 1,
      desiredReplicas: 2,
    });
    const [event] = await api.prisma.auditEvent.findMany({ where: { action: 'deployment.deploy' } });
    expect(event?.details).toMatchObject({ outcome: 'ok', target: 'kubernetes', configVersion: 1 });
    expect(JSON.stringify(event?.details)).not.toContain('KEY-');
  });

  it('refuses viewers, and says so when no deployer is configured', async () => {
    const viewerCookie = await api.signedIn('viewer');
    const viewer = await caller(viewerCookie);
    expect((await trpcError(viewer.deployment.deploy({ topic: 'orders' }))).code).toBe('FORBIDDEN');
    const editor = await caller(await api.signedIn('editor'), { deployer: null });
    const error = await trpcError(editor.deployment.deploy({ topic: 'orders' }));
    expect(error.code).toBe('PRECONDITION_FAILED');
    expect(error.message).toMatch(/No deployer is configured.*HUBCAP_DEPLOYER/);
    const withDeployer = await caller(await api.signedIn('editor'));
    expect((await trpcError(withDeployer.deployment.deploy({ topic: 'nope' }))).code).toBe('NOT_FOUND');
  });

  const errorCases: [DeployerError['kind'], number | undefined, TRPCError['code']][] = [
    ['unauthorized', 401, 'PRECONDITION_FAILED'],
    ['forbidden', 403, 'PRECONDITION_FAILED'],
    ['notFound', 404, 'NOT_FOUND'],
    ['conflict', 409, 'CONFLICT'],
    ['invalid', 422, 'UNPROCESSABLE_CONTENT'],
    ['unavailable', 503, 'SERVICE_UNAVAILABLE'],
    ['timeout', undefined, 'GATEWAY_TIMEOUT'],
  ];
  for (const [kind, status, code] of errorCases) {
    it(`turns a deployer "${kind}" error into ${code} with its message, a failed row and an audit event`, async () => {
      const message = `The cluster said ${kind}. Nothing was applied.`;
      deployer.next.apply = [
        () => {
          throw new DeployerError(kind, message, status === undefined ? {} : { status });
        },
      ];
      const editor = await caller(await api.signedIn('editor'));
      const error = await trpcError(editor.deployment.deploy({ topic: 'orders' }));
      expect(error.code).toBe(code);
      expect(error.message).toBe(message);
      expect(await api.prisma.deployment.findUnique({ where: { topicId } })).toMatchObject({
        phase: 'failed',
        message,
      });
      const [event] = await api.prisma.auditEvent.findMany({ where: { action: 'deployment.deploy' } });
      expect(event?.details).toMatchObject({ outcome: 'failed', error: kind, message });
      // The token issued for this attempt never reached the cluster: revoked.
      expect(await api.prisma.agentInstance.count({ where: { topicId, revokedAt: null } })).toBe(0);
    });
  }

  it('keeps the new token when a failed apply had already applied the Secret, and says what was not applied', async () => {
    const message =
      'Kubernetes rejected the object as invalid (422). Applied before the failure: ServiceAccount/hubcap-agent-orders, Secret/hubcap-agent-orders. Not applied: ConfigMap/hubcap-agent-orders, Deployment/hubcap-agent-orders.';
    deployer.next.apply = [
      () => {
        throw new DeployerError('invalid', message, {
          status: 422,
          applied: ['ServiceAccount/hubcap-agent-orders', 'Secret/hubcap-agent-orders'],
          notApplied: ['ConfigMap/hubcap-agent-orders', 'Deployment/hubcap-agent-orders'],
        });
      },
    ];
    const editor = await caller(await api.signedIn('editor'));
    await trpcError(editor.deployment.deploy({ topic: 'orders' }));
    expect(await api.prisma.agentInstance.count({ where: { topicId, revokedAt: null } })).toBe(1);
    const [event] = await api.prisma.auditEvent.findMany({ where: { action: 'deployment.deploy' } });
    expect(event?.details).toMatchObject({
      notApplied: ['ConfigMap/hubcap-agent-orders', 'Deployment/hubcap-agent-orders'],
    });
  });

  it('pauses and resumes a deployed topic, recording the desired state', async () => {
    const editor = await caller(await api.signedIn('editor'));
    expect((await trpcError(editor.deployment.pause({ topic: 'orders' }))).message).toMatch(
      /not deployed: deploy it first/,
    );
    await editor.deployment.deploy({ topic: 'orders' });
    expect((await editor.deployment.pause({ topic: 'orders' })).phase).toBe('paused');
    expect((await api.prisma.topic.findUnique({ where: { id: topicId } }))?.desiredState).toBe('paused');
    await editor.deployment.resume({ topic: 'orders' });
    expect((await api.prisma.topic.findUnique({ where: { id: topicId } }))?.desiredState).toBe('running');
    expect(deployer.calls.map((c) => c.op)).toEqual(['apply', 'pause', 'resume']);
  });

  it('removes a deployment: every object, every token revoked', async () => {
    const editor = await caller(await api.signedIn('editor'));
    await editor.deployment.deploy({ topic: 'orders' });
    await editor.deployment.remove({ topic: 'orders' });
    expect(await api.prisma.agentInstance.count({ where: { topicId, revokedAt: null } })).toBe(0);
    expect((await api.prisma.deployment.findUnique({ where: { topicId } }))?.phase).toBe('deleted');
  });

  it('shows viewers the recorded and live status, and a clear message when the live status cannot be read', async () => {
    const editor = await caller(await api.signedIn('editor'));
    await editor.deployment.deploy({ topic: 'orders' });
    const viewer = await caller(await api.signedIn('viewer'));
    const view = await viewer.deployment.status({ topic: 'orders' });
    expect(view.live?.phase).toBe('running');
    expect(view.record).toMatchObject({ phase: 'running', readyReplicas: 2 });
    deployer.next.status = [
      () => {
        throw new DeployerError(
          'timeout',
          'The Kubernetes API did not answer within 15 s while trying to read Deployment/hubcap-agent-orders.',
        );
      },
    ];
    const stale = await viewer.deployment.status({ topic: 'orders' });
    expect(stale.live).toBeNull();
    expect(stale.liveError).toMatch(/did not answer within 15 s/);
    expect(stale.record?.phase).toBe('running');
  });

  it('exports the manifests as YAML with every secret redacted', async () => {
    const viewer = await caller(await api.signedIn('viewer'));
    const { filename, yaml } = await viewer.deployment.exportManifests({ topic: 'orders' });
    expect(filename).toBe('hubcap-agent-orders-v1.yaml');
    for (const secret of ['EH-KEY-123', 'STORAGE-KEY-456', 'hca_']) expect(yaml).not.toContain(secret);
    expect(yaml).toMatch(/# Secret values are REDACTED/);
    const docs = parseAllDocuments(yaml).map((d) => d.toJS());
    expect(docs.map((d) => `${d.kind}/${d.metadata.namespace}`)).toEqual([
      'ServiceAccount/agents',
      'Secret/agents',
      'ConfigMap/agents',
      'Deployment/agents',
    ]);
    expect(docs[3].spec.template.spec.containers[0].image).toBe('registry.example/hubcap-agent:1.2.3');
    expect(deployer.calls).toEqual([]);
  });
});

describe('reconcile on start', () => {
  it('re-applies what the database says, keeps deployed tokens, issues one when the cluster has none, reports drift', async () => {
    const editor = await caller(await api.signedIn('editor'));
    await editor.deployment.deploy({ topic: 'orders' });
    await api.prisma.topic.update({ where: { id: topicId }, data: { desiredState: 'paused' } });
    const { id: otherId } = await createTopic(
      api.prisma,
      api.secrets,
      { ...config, topic: 'clicks', source: { ...config.source, eventHubName: 'clicks' } },
      { actor: 'system' },
    );
    await api.prisma.deployment.create({
      data: { topicId: otherId, target: 'local', configVersion: 1, desiredReplicas: 1, phase: 'running' },
    });
    deployer.calls = [];
    deployer.next.apply = [
      () => {
        throw new DeployerError('missingToken', 'Secret/hubcap-agent-orders holds no agent token');
      },
      () => ok('paused', { desiredReplicas: 0, drift: ['Deployment/hubcap-agent-orders was missing'] }),
    ];
    const lines: string[] = [];
    const results = await reconcileDeployments(services, (l) => lines.push(l));
    expect(results).toEqual([
      {
        topic: 'orders',
        outcome: 'applied',
        phase: 'paused',
        drift: ['Deployment/hubcap-agent-orders was missing'],
        message: 'paused.',
      },
      expect.objectContaining({ topic: 'clicks', outcome: 'skipped' }),
    ]);
    expect(deployer.calls.map((c) => [c.spec?.agentToken === null ? 'keep' : 'new', c.spec?.paused])).toEqual(
      [
        ['keep', true],
        ['new', true],
      ],
    );
    const [event] = await api.prisma.auditEvent.findMany({ where: { action: 'deployment.reconcile' } });
    expect(event?.details).toMatchObject({ drift: ['Deployment/hubcap-agent-orders was missing'] });
    expect(event?.actor).toBe('system');
    expect(lines[0]).toMatch(/reconcile orders: paused; drift: Deployment\/hubcap-agent-orders was missing/);
  });
});
