import { describe, expect, it } from 'vitest';
import { DeployerEnv } from './env.ts';
import { createDeployer } from './from-env.ts';

describe('deployer settings', () => {
  it('gives every agent ServiceAccount the annotations set, e.g. the default workload identity', () => {
    const env = DeployerEnv.parse({
      HUBCAP_AGENT_SERVICE_ACCOUNT_ANNOTATIONS:
        '{"azure.workload.identity/client-id":"11111111-2222-3333-4444-555555555555"}',
      HUBCAP_AGENT_CONTROL_PLANE_URL: 'http://hubcap-web.hubcap.svc:3000',
    });
    expect(createDeployer(env).manifestTarget).toMatchObject({
      serviceAccountAnnotations: {
        'azure.workload.identity/client-id': '11111111-2222-3333-4444-555555555555',
      },
      controlPlaneUrl: 'http://hubcap-web.hubcap.svc:3000',
    });
  });

  it('refuses annotations that are not a JSON object of strings', () => {
    for (const bad of ['{nope', '["a"]', '{"a":1}']) {
      const result = DeployerEnv.safeParse({ HUBCAP_AGENT_SERVICE_ACCOUNT_ANNOTATIONS: bad });
      expect(result.success).toBe(false);
      expect(result.error?.issues[0]?.path[0]).toBe('HUBCAP_AGENT_SERVICE_ACCOUNT_ANNOTATIONS');
    }
  });

  it('needs the control plane URL for Kubernetes: agents fetch their config from it', () => {
    const env = DeployerEnv.parse({ HUBCAP_DEPLOYER: 'kubernetes', HUBCAP_KUBECONFIG: '/nonexistent' });
    expect(() => createDeployer(env)).toThrow(/needs HUBCAP_AGENT_CONTROL_PLANE_URL/);
  });
});
