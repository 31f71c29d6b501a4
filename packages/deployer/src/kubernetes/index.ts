export {
  deploymentDrift,
  deploymentStatus,
  KubernetesDeployer,
  type KubernetesDeployerOptions,
} from './deployer.ts';
export { toDeployerError } from './errors.ts';
export { loadKubeConfig } from './kubeconfig.ts';
