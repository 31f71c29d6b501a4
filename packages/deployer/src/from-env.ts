import type { DeployerEnv } from './env.ts';
import { KubernetesDeployer } from './kubernetes/deployer.ts';
import { loadKubeConfig } from './kubernetes/kubeconfig.ts';
import { LocalRunner } from './local/runner.ts';
import { EXPORT_CONTROL_PLANE_URL, type KubernetesTarget } from './manifests.ts';
import type { Deployer } from './types.ts';

/**
 * The deployer the settings ask for, plus where exported manifests point. `agentEnv` goes to local
 * agents (the hosts the control plane allows them, for instance).
 */
export function createDeployer(
  env: DeployerEnv,
  options: { agentEnv?: Record<string, string> } = {},
): {
  deployer: Deployer | null;
  manifestTarget: KubernetesTarget;
} {
  const manifestTarget: KubernetesTarget = {
    namespace: env.HUBCAP_AGENT_NAMESPACE,
    image: env.HUBCAP_AGENT_IMAGE,
    podDisruptionBudget: env.HUBCAP_AGENT_PDB,
    ...(env.HUBCAP_AGENT_IMAGE_PULL_POLICY ? { imagePullPolicy: env.HUBCAP_AGENT_IMAGE_PULL_POLICY } : {}),
    // Exports without a configured URL name the chart's default Service; edit it to yours.
    controlPlaneUrl: env.HUBCAP_AGENT_CONTROL_PLANE_URL ?? EXPORT_CONTROL_PLANE_URL,
    ...(env.HUBCAP_AGENT_SERVICE_ACCOUNT_ANNOTATIONS
      ? { serviceAccountAnnotations: env.HUBCAP_AGENT_SERVICE_ACCOUNT_ANNOTATIONS }
      : {}),
  };
  switch (env.HUBCAP_DEPLOYER) {
    case 'none':
      return { deployer: null, manifestTarget };
    case 'kubernetes': {
      if (!env.HUBCAP_AGENT_CONTROL_PLANE_URL) {
        throw new Error(
          'HUBCAP_DEPLOYER=kubernetes needs HUBCAP_AGENT_CONTROL_PLANE_URL: agents fetch their config from the control plane',
        );
      }
      const kubeConfig = loadKubeConfig({
        kubeconfig: env.HUBCAP_KUBECONFIG,
        inCluster: !env.HUBCAP_KUBECONFIG && Boolean(env.KUBERNETES_SERVICE_HOST),
      });
      return { deployer: new KubernetesDeployer({ ...manifestTarget, kubeConfig }), manifestTarget };
    }
    case 'local': {
      if (!env.HUBCAP_AGENT_ENTRY) {
        throw new Error(
          'HUBCAP_DEPLOYER=local needs HUBCAP_AGENT_ENTRY (the agent entry point, apps/agent/src/main.ts)',
        );
      }
      const runner = new LocalRunner({
        agentEntry: env.HUBCAP_AGENT_ENTRY,
        ...(env.HUBCAP_AGENT_CONTROL_PLANE_URL
          ? { controlPlaneUrl: env.HUBCAP_AGENT_CONTROL_PLANE_URL }
          : {}),
        ...(env.HUBCAP_AGENT_PID_FILE ? { pidFile: env.HUBCAP_AGENT_PID_FILE } : {}),
        ...(options.agentEnv ? { env: options.agentEnv } : {}),
      });
      return { deployer: runner, manifestTarget };
    }
  }
}
