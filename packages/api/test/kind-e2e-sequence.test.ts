// deploy/kind/e2e.sh cannot run here (no Docker, kind or cluster), so its API sequence runs here:
// every `call <procedure> '<json>'` line of the script, in order, against the real API over HTTP
// with the Kubernetes deployer talking to a recording fake of the Kubernetes API, plus the script's
// kubectl checks read from the fake. A wrong input in the script fails this test, not a user's run.
import { readFileSync } from 'node:fs';
import { KubernetesDeployer } from '@hubcap/deployer/kubernetes';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type FakeKubeApi, startFakeKubeApi } from '../../deployer/test/fake-kube-api.ts';
import { type Harness, startHarness } from './harness.ts';

const SCRIPT = readFileSync(new URL('../../../deploy/kind/e2e.sh', import.meta.url), 'utf8');
const AGENTS = 'hubcap-agents';

/** The script's calls with a literal JSON input, in order (auth.signIn uses variables: done here). */
const steps = [...SCRIPT.matchAll(/^call (\S+) '([^']*)'/gm)].map(([, procedure, input]) => ({
  procedure: procedure!,
  input: JSON.parse(input!) as unknown,
}));

let kube: FakeKubeApi;
let api: Harness;

beforeEach(async () => {
  kube = await startFakeKubeApi({ namespaces: [AGENTS] });
  const deployer = new KubernetesDeployer({
    namespace: AGENTS,
    image: 'hubcap-agent:0.1.0',
    controlPlaneUrl: 'http://hubcap-web.hubcap.svc:3000',
    podDisruptionBudget: true,
    kubeConfig: kube.kubeConfig(),
    requestTimeoutMs: 2000,
  });
  api = await startHarness({ deployer });
});
afterEach(async () => {
  await api.close();
  await kube.close();
});

describe('deploy/kind/e2e.sh API sequence (recording fake of the Kubernetes API)', () => {
  it('finds the script’s calls', () => {
    expect(steps.map((s) => s.procedure)).toEqual([
      'topic.create',
      'deployment.deploy',
      'deployment.redeploy',
      'topic.update',
      'deployment.pause',
      'deployment.resume',
      'deployment.remove',
    ]);
  });

  it('runs every call with the script’s input, and the script’s checks hold', async () => {
    const cookie = await api.signedIn('admin');
    const deployment = () => kube.store.get(`${AGENTS}/deployments/hubcap-agent-e2e`);
    let generation = 0;
    for (const { procedure, input } of steps) {
      const res = await api.call(procedure, input, { cookie });
      expect(res.status, `${procedure}: ${JSON.stringify(res.body)}`).toBe(200);
      switch (procedure) {
        case 'deployment.deploy':
          expect(deployment().metadata.managedFields.map((f: { manager: string }) => f.manager)).toContain(
            'hubcap',
          );
          expect(kube.store.has(`${AGENTS}/poddisruptionbudgets/hubcap-agent-e2e`)).toBe(true);
          generation = deployment().metadata.generation;
          break;
        case 'topic.update':
          expect(JSON.stringify(res.body)).toContain('"outcome":"applied"');
          expect(deployment().metadata.generation).toBe(generation);
          expect(deployment().metadata.annotations['hubcap.io/config-version']).toBe('2');
          break;
        case 'deployment.pause':
          expect(deployment().spec.replicas).toBe(0);
          break;
        case 'deployment.resume':
          expect(deployment().spec.replicas).toBe(1);
          break;
        case 'deployment.remove':
          expect([...kube.store.keys()].filter((k) => k.endsWith('/hubcap-agent-e2e'))).toEqual([]);
          break;
      }
    }
  });
});
