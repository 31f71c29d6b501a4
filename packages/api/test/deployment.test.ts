import type {
  AgentDeploymentSpec,
  AgentJobSpec,
  Deployer,
  DeploymentStatus,
  TopicRef,
} from '@hubcap/deployer';
import { DeployerError } from '@hubcap/deployer';
import type { TopicConfigInput } from '@hubcap/shared';
import { TRPCError } from '@trpc/server';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { type ApiServices, createContext } from '../src/context.ts';
import { appRouter } from '../src/root.ts';
import { reconcileDeployments, TOKEN_GRACE_MS } from '../src/services/deployments/deployments.ts';
import { createTopic, issueAgentToken } from '../src/services/topics/topics.ts';
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

/**
 * A deployer that does what each test scripts, and records what it was asked. Like the real ones it
 * keeps the token it was last given, and needs a new one when it has none.
 */
class ScriptedDeployer implements Deployer {
  readonly target = 'kubernetes' as const;
  calls: { op: string; spec?: AgentDeploymentSpec; topic?: TopicRef }[] = [];
  deployedToken: string | null = null;
  next: Partial<Record<'apply' | 'pause' | 'resume' | 'remove' | 'status', (() => DeploymentStatus)[]>> = {};

  #run(op: keyof ScriptedDeployer['next'], fallback: DeploymentStatus): DeploymentStatus {
    const step = this.next[op]?.shift();
    return step ? step() : fallback;
  }
  async apply(spec: AgentDeploymentSpec) {
    this.calls.push({ op: 'apply', spec });
    if (spec.agentToken === null && this.deployedToken === null)
      throw new DeployerError('missingToken', 'Secret/hubcap-agent-orders holds no agent token');
    const status = this.#run('apply', ok('applying'));
    if (spec.agentToken !== null) this.deployedToken = spec.agentToken;
    return status;
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
  async runJob(spec: AgentJobSpec) {
    this.calls.push({ op: 'runJob', topic: spec.topic });
    return { phase: 'running' as const, restarts: 0, message: 'Running.' };
  }
  async jobStatus(topic: TopicRef) {
    this.calls.push({ op: 'jobStatus', topic });
    return { phase: 'running' as const, restarts: 0, message: 'Running.' };
  }
  async removeJob(topic: TopicRef) {
    this.calls.push({ op: 'removeJob', topic });
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
    manifestTarget: {
      namespace: 'agents',
      image: 'registry.example/hubcap-agent:1.2.3',
      controlPlaneUrl: 'http://hubcap-web.hubcap.svc:3000',
    },
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

  it('lets editors deploy: a fresh token, the config with secrets to the deployer, older tokens retired, recorded and audited', async () => {
    const { agentId: oldAgent } = await issueAgentToken(api.prisma, topicId, 'old');
    const editor = await caller(await api.signedIn('editor'));
    const status = await editor.deployment.deploy({ topic: 'orders' });
    expect(status.phase).toBe('applying');
    expect(deployer.calls.map((c) => c.spec?.agentToken === null)).toEqual([true, false]);
    const spec = deployer.calls[1]!.spec!;
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

  it('redeploys an unchanged topic with the token already deployed: no new token, nothing for the pods to roll', async () => {
    const editor = await caller(await api.signedIn('editor'));
    await editor.deployment.deploy({ topic: 'orders' });
    const tokens = await api.prisma.agentInstance.findMany({ where: { topicId } });
    deployer.calls = [];
    await editor.deployment.redeploy({ topic: 'orders' });
    await editor.deployment.deploy({ topic: 'orders' });
    expect(deployer.calls.map((c) => c.spec?.agentToken)).toEqual([null, null]);
    expect(await api.prisma.agentInstance.findMany({ where: { topicId } })).toEqual(tokens);
  });

  it('issues a new token on redeploy when the deployed one was revoked', async () => {
    const editor = await caller(await api.signedIn('editor'));
    await editor.deployment.deploy({ topic: 'orders' });
    const [deployed] = await api.prisma.agentInstance.findMany({ where: { topicId } });
    await editor.topic.revokeAgentToken({ name: 'orders', agentId: deployed!.id });
    deployer.calls = [];
    await editor.deployment.redeploy({ topic: 'orders' });
    expect(deployer.calls.map((c) => c.spec?.agentToken)).toEqual([expect.stringMatching(/^hca_/)]);
    expect(await api.prisma.agentInstance.count({ where: { topicId, revokedAt: null } })).toBe(1);
  });

  it('keeps a replaced token valid until the rollout that replaces it is done, then revokes it', async () => {
    const editor = await caller(await api.signedIn('editor'));
    await editor.deployment.deploy({ topic: 'orders' });
    const oldToken = deployer.deployedToken!;
    deployer.deployedToken = null; // the Secret was deleted: the next deploy needs a new token
    deployer.next.status = [() => ok('applying')];
    await editor.deployment.deploy({ topic: 'orders' });
    const report = (token: string) =>
      createContext(
        services,
        { url: 'http://hubcap.test/', headers: new Headers({ authorization: `Bearer ${token}` }) },
        new Headers(),
      ).then((ctx) => appRouter.createCaller(ctx).agent.config());
    // Pods of the old ReplicaSet still run with the old token while the new ones start.
    expect((await report(oldToken)).version).toBe(1);
    const viewer = await caller(await api.signedIn('viewer'));
    expect((await viewer.deployment.status({ topic: 'orders' })).live?.phase).toBe('applying');
    expect((await report(oldToken)).version).toBe(1);
    // The rollout finished: the old token stops working; the new one works.
    expect((await viewer.deployment.status({ topic: 'orders' })).live?.phase).toBe('running');
    expect((await trpcError(report(oldToken))).code).toBe('UNAUTHORIZED');
    expect((await report(deployer.deployedToken!)).version).toBe(1);
    // Without a finished rollout, the grace period bounds it.
    const replaced = await api.prisma.agentInstance.findMany({
      where: { topicId, revokedAt: { not: null } },
    });
    for (const agent of replaced) expect(agent.revokedAt!.getTime()).toBeLessThanOrEqual(Date.now());
    expect(TOKEN_GRACE_MS).toBeLessThanOrEqual(30 * 60_000);
  });

  it('keeps the new token when a failed apply had already applied the Secret, and says what was not applied', async () => {
    const message =
      'Kubernetes rejected the object as invalid (422). Applied before the failure: ServiceAccount/hubcap-agent-orders, Secret/hubcap-agent-orders. Not applied: Deployment/hubcap-agent-orders.';
    deployer.next.apply = [
      () => {
        throw new DeployerError('invalid', message, {
          status: 422,
          applied: ['ServiceAccount/hubcap-agent-orders', 'Secret/hubcap-agent-orders'],
          notApplied: ['Deployment/hubcap-agent-orders'],
        });
      },
    ];
    const editor = await caller(await api.signedIn('editor'));
    await trpcError(editor.deployment.deploy({ topic: 'orders' }));
    expect(await api.prisma.agentInstance.count({ where: { topicId, revokedAt: null } })).toBe(1);
    const [event] = await api.prisma.auditEvent.findMany({ where: { action: 'deployment.deploy' } });
    expect(event?.details).toMatchObject({ notApplied: ['Deployment/hubcap-agent-orders'] });
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
      'Deployment/agents',
    ]);
    expect(docs[2].spec.template.spec.containers[0].image).toBe('registry.example/hubcap-agent:1.2.3');
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
    deployer.deployedToken = null;
    deployer.next.apply = [
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

describe('saved means applied', () => {
  const edited = { ...config, batching: { maxEvents: 5000 } };
  const save = async (draft: TopicConfigInput) =>
    (await caller(await api.signedIn('editor'))).topic.update({
      name: 'orders',
      config: draft as Record<string, unknown>,
    });

  it('applies a saved version to a deployed topic at once, keeping its token', async () => {
    const editor = await caller(await api.signedIn('editor'));
    await editor.deployment.deploy({ topic: 'orders' });
    deployer.calls = [];
    const saved = await save(edited);
    expect(saved.version).toBe(2);
    expect(saved.rollout).toMatchObject({
      outcome: 'applied',
      message: expect.stringMatching(/^Version 2 is applied/),
    });
    expect(deployer.calls).toHaveLength(1);
    expect(deployer.calls[0]!.spec).toMatchObject({ configVersion: 2, agentToken: null, paused: false });
    expect(deployer.calls[0]!.spec!.config.batching.maxEvents).toBe(5000);
    expect((await api.prisma.deployment.findUnique({ where: { topicId } }))?.configVersion).toBe(2);
  });

  it('says why a saved version could not be applied, and records it on the deployment', async () => {
    const editor = await caller(await api.signedIn('editor'));
    await editor.deployment.deploy({ topic: 'orders' });
    deployer.next.apply = [
      () => {
        throw new DeployerError(
          'forbidden',
          'Deployment/hubcap-agent-orders was refused: exceeded quota: agents. Nothing was applied.',
        );
      },
    ];
    const saved = await save(edited);
    expect(saved.version).toBe(2);
    expect(saved.rollout).toEqual({
      outcome: 'failed',
      phase: 'failed',
      message:
        'Version 2 is saved but not applied: Deployment/hubcap-agent-orders was refused: exceeded quota: agents. Nothing was applied.',
    });
    expect(await api.prisma.deployment.findUnique({ where: { topicId } })).toMatchObject({
      phase: 'failed',
      message: expect.stringMatching(/exceeded quota/),
    });
  });

  it('leaves a topic that is not deployed alone, and saves nothing new for an unchanged draft', async () => {
    expect((await save(edited)).rollout).toMatchObject({ outcome: 'notDeployed' });
    expect((await save(edited)).rollout).toBeNull();
    expect(deployer.calls).toEqual([]);
  });
});
