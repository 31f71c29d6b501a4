import { KubeConfig } from '@kubernetes/client-node';

/**
 * In the cluster: the pod's service account. Otherwise the file given, else the default lookup
 * (KUBECONFIG, ~/.kube/config).
 */
export function loadKubeConfig(options: {
  kubeconfig?: string | undefined;
  inCluster?: boolean;
}): KubeConfig {
  const kc = new KubeConfig();
  if (options.inCluster) kc.loadFromCluster();
  else if (options.kubeconfig) kc.loadFromFile(options.kubeconfig);
  else kc.loadFromDefault();
  return kc;
}
