import { z } from 'zod';

const optional = z
  .string()
  .trim()
  .transform((v) => (v === '' ? undefined : v))
  .optional();
const bool = (fallback: boolean) =>
  z
    .enum(['true', 'false', '1', '0'], { error: 'must be "true" or "false"' })
    .transform((v) => v === 'true' || v === '1')
    .default(fallback);

/**
 * The control plane's deployer settings, as environment variables (the web app's env.ts merges this
 * schema into its own, so every variable is validated at boot).
 */
export const DeployerEnv = z.object({
  /** Which deployer runs agents: none (deploy actions are refused), local child processes, or Kubernetes. */
  HUBCAP_DEPLOYER: z
    .enum(['none', 'local', 'kubernetes'], { error: 'must be "none", "local" or "kubernetes"' })
    .default('none'),
  /** Namespace the agents run in (also used in exported manifests). */
  HUBCAP_AGENT_NAMESPACE: z
    .string()
    .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'must be a Kubernetes namespace name')
    .max(63)
    .default('hubcap-agents'),
  /** Agent image (also used in exported manifests). */
  HUBCAP_AGENT_IMAGE: z.string().trim().min(1).default('hubcap-agent:latest'),
  HUBCAP_AGENT_IMAGE_PULL_POLICY: z.enum(['Always', 'IfNotPresent', 'Never']).optional(),
  /** Adds a PodDisruptionBudget per topic. */
  HUBCAP_AGENT_PDB: bool(false),
  /**
   * URL agents fetch their config from and report to, e.g. http://hubcap-web.hubcap.svc:3000
   * (Kubernetes; required there) or http://127.0.0.1:3000 (local).
   */
  HUBCAP_AGENT_CONTROL_PLANE_URL: optional.pipe(z.url({ error: 'must be an http(s) URL' }).optional()),
  /**
   * Annotations for every agent's ServiceAccount, as a JSON object, e.g.
   * {"azure.workload.identity/client-id":"<guid>"}: the identity of topics that name none.
   */
  HUBCAP_AGENT_SERVICE_ACCOUNT_ANNOTATIONS: optional.pipe(
    z
      .string()
      .transform((text, ctx) => {
        try {
          return JSON.parse(text) as unknown;
        } catch {
          ctx.addIssue({ code: 'custom', message: 'must be a JSON object of strings' });
          return z.NEVER;
        }
      })
      .pipe(
        z.record(z.string().min(1).max(253), z.string().max(4096), {
          error: 'must be a JSON object of strings',
        }),
      )
      .optional(),
  ),
  /** Kubeconfig file; default: the pod's service account inside a cluster, else KUBECONFIG / ~/.kube/config. */
  HUBCAP_KUBECONFIG: optional,
  /** Set by Kubernetes in every pod; its presence selects the in-cluster config. */
  KUBERNETES_SERVICE_HOST: optional,
  /** Local runner: the agent's entry point (apps/agent/src/main.ts); `npm start` sets it. */
  HUBCAP_AGENT_ENTRY: optional,
  /** Local runner: file keeping the agents' pids, so orphans of a killed server are stopped next time. */
  HUBCAP_AGENT_PID_FILE: optional,
  /** Re-apply every recorded deployment when the server starts, and report drift. */
  HUBCAP_RECONCILE_ON_START: bool(true),
});

export type DeployerEnv = z.output<typeof DeployerEnv>;
