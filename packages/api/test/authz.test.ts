import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appRouter } from '../src/root.ts';
import { createTopic, issueAgentToken } from '../src/services/topics/topics.ts';
import { topicConfig } from './fixtures.ts';
import { type Harness, startHarness } from './harness.ts';

type Principal = 'anonymous' | 'viewer' | 'editor' | 'admin' | 'agent';
type Required = 'public' | 'viewer' | 'editor' | 'admin' | 'agent';

/**
 * Who may call what. Every procedure of the router must be listed here: adding one without deciding
 * who may call it fails this test.
 */
const MATRIX: Record<string, Required> = {
  'auth.signIn': 'public',
  'auth.signOut': 'viewer',
  'auth.me': 'viewer',
  'auth.changePassword': 'viewer',
  'topic.list': 'viewer',
  'topic.get': 'viewer',
  'topic.watch': 'viewer',
  'topic.listVersions': 'viewer',
  'topic.getConfig': 'editor',
  'topic.getMeasuredRates': 'viewer',
  'topic.create': 'editor',
  'topic.update': 'editor',
  'topic.testConnection': 'editor',
  'topic.preview': 'editor',
  'topic.sourceInUse': 'editor',
  'topic.createAgentToken': 'admin',
  'topic.revokeAgentToken': 'editor',
  'topic.delete': 'editor',
  'schema.listVersions': 'viewer',
  'schema.getVersion': 'viewer',
  'schema.compareVersions': 'viewer',
  'schema.acknowledgeChange': 'editor',
  'completeness.grid': 'viewer',
  'deployment.deploy': 'editor',
  'deployment.redeploy': 'editor',
  'deployment.pause': 'editor',
  'deployment.resume': 'editor',
  'deployment.remove': 'editor',
  'deployment.status': 'viewer',
  'deployment.reconcileProgress': 'viewer',
  'deployment.logs': 'viewer',
  'deployment.exportManifests': 'viewer',
  'agent.report': 'agent',
  'agent.config': 'agent',
  'agent.replay': 'agent',
  'agent.replayProgress': 'agent',
  'user.list': 'admin',
  'user.create': 'admin',
  'user.update': 'admin',
  'user.resetPassword': 'admin',
  'alert.list': 'viewer',
  'settings.get': 'viewer',
  'settings.update': 'admin',
  'settings.setThroughputUnits': 'admin',
  'audit.list': 'admin',
  'cutover.plan': 'viewer',
  'cutover.start': 'editor',
  'cutover.report': 'viewer',
  'cutover.rollbackPlan': 'viewer',
  'cutover.fillGap': 'editor',
  'replay.list': 'viewer',
  'replay.start': 'editor',
  'replay.cancel': 'editor',
};

const RANK: Record<Principal, number> = { anonymous: -1, agent: -1, viewer: 0, editor: 1, admin: 2 };

function allowed(required: Required, who: Principal): boolean {
  if (required === 'public') return true;
  if (required === 'agent') return who === 'agent';
  return RANK[who] >= RANK[required];
}

/** The refusal a principal gets: 401 when it is not the right kind of caller at all, 403 when its role is too low. */
function refusal(required: Required, who: Principal): number {
  if (who === 'anonymous' || who === 'agent' || required === 'agent') return 401;
  return 403;
}

const procedures = appRouter._def.procedures as unknown as Record<string, { _def: { type: string } }>;
// Sign-out ends the session the rest of the matrix uses: run it last.
const paths = Object.keys(procedures).sort(
  (a, b) => Number(a === 'auth.signOut') - Number(b === 'auth.signOut'),
);

let api: Harness;
const credentials: Record<Principal, { cookie?: string; token?: string }> = {
  anonymous: {},
  viewer: {},
  editor: {},
  admin: {},
  agent: {},
};

beforeAll(async () => {
  api = await startHarness();
  const { id } = await createTopic(api.prisma, api.secrets, topicConfig('orders'), { actor: 'system' });
  credentials.agent = {
    token: (await issueAgentToken(api.prisma, id, 'orders-0', { configAccess: true })).token,
  };
  for (const role of ['viewer', 'editor', 'admin'] as const)
    credentials[role] = { cookie: await api.signedIn(role) };
});
afterAll(() => api.close());

/** An input no procedure accepts: an allowed caller gets 400 and nothing changes; a refused one never gets that far. */
const BAD_INPUT = { 'matrix-probe': true };

async function statusOf(path: string, who: Principal): Promise<number> {
  if (procedures[path]!._def.type === 'subscription') {
    const caller = (await api.caller(credentials[who])) as unknown as Record<
      string,
      Record<string, (i: unknown) => Promise<unknown>>
    >;
    const [ns, name] = path.split('.') as [string, string];
    try {
      await caller[ns]![name]!(BAD_INPUT);
      return 200;
    } catch (error) {
      const code = (error as { code?: string }).code;
      return code === 'UNAUTHORIZED' ? 401 : code === 'FORBIDDEN' ? 403 : code === 'BAD_REQUEST' ? 400 : 500;
    }
  }
  return (await api.call(path, BAD_INPUT, credentials[who])).status;
}

describe('authorisation matrix', () => {
  it('lists every procedure of the router', () => {
    expect(paths.filter((p) => !(p in MATRIX))).toEqual([]);
  });

  it('a viewer cannot edit or deploy, an editor cannot manage users, even with valid input', async () => {
    // Runs before the matrix, whose sign-out ends these sessions.
    const viewer = credentials.viewer;
    const editor = credentials.editor;
    expect((await api.call('topic.create', { config: topicConfig('payments') }, viewer)).status).toBe(403);
    expect(
      (await api.call('topic.update', { name: 'orders', config: topicConfig('orders') }, viewer)).status,
    ).toBe(403);
    expect(
      (await api.call('user.create', { email: 'x@example.com', name: 'X', role: 'admin' }, editor)).status,
    ).toBe(403);
    expect((await api.call('settings.update', {}, editor)).status).toBe(403);
    expect(await api.prisma.topic.count()).toBe(1);
    expect(await api.prisma.user.count()).toBe(3);
  });

  const principals: Principal[] = ['anonymous', 'agent', 'viewer', 'editor', 'admin'];
  it.each(principals)('%s: every procedure answers as the matrix says', async (who) => {
    const outcomes: string[] = [];
    const expected: string[] = [];
    for (const path of paths) {
      const status = await statusOf(path, who);
      const required = MATRIX[path]!;
      const ok = allowed(required, who);
      outcomes.push(`${path} ${ok ? (status === 400 || status === 200 ? 'allowed' : status) : status}`);
      expected.push(`${path} ${ok ? 'allowed' : refusal(required, who)}`);
    }
    expect(outcomes).toEqual(expected);
  });
});
