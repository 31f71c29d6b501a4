import { createHash } from 'node:crypto';
import { agentProcessEnv, fileLayout, REDACTED, type TopicConfig } from '@hubcap/shared';
import type {
  KubernetesObject,
  V1Deployment,
  V1EnvVar,
  V1Job,
  V1PodDisruptionBudget,
  V1Secret,
  V1SecurityContext,
  V1ServiceAccount,
} from '@kubernetes/client-node';
import { Document, isMap, isScalar, stringify } from 'yaml';
import {
  CONFIG_VERSION_ANNOTATION,
  FILE_LAYOUT_ANNOTATION,
  imageTag,
  labelValue,
  objectName,
  REPLICAS_ANNOTATION,
  selectorLabels,
  TOKEN_HASH_ANNOTATION,
  TOPIC_LABEL,
} from './names.ts';
import { type AgentDeploymentSpec, type AgentJobSpec, JOB_BACKOFF_LIMIT } from './types.ts';

/** Where and how agents run on Kubernetes; the same for every topic of one control plane. */
export interface KubernetesTarget {
  namespace: string;
  /** Agent image, e.g. ghcr.io/acme/hubcap-agent:0.1.0. */
  image: string;
  imagePullPolicy?: 'Always' | 'IfNotPresent' | 'Never';
  /** URL agents fetch their config from and report to (the control plane's Service). */
  controlPlaneUrl: string;
  /** Adds a PodDisruptionBudget (maxUnavailable 1) per topic. */
  podDisruptionBudget?: boolean;
  /**
   * Extra ServiceAccount annotations for every agent, e.g. azure.workload.identity/client-id of the
   * identity agents use when a topic names none ("the pod's identity").
   */
  serviceAccountAnnotations?: Record<string, string>;
  /** The agent's HUBCAP_DRAIN_TIMEOUT_MS; the termination grace period is 15 s longer. Default 25 000. */
  drainTimeoutMs?: number;
}

/** The control plane's address in exported manifests when none is configured (the chart's default Service). */
export const EXPORT_CONTROL_PLANE_URL = 'http://hubcap-web.hubcap.svc:3000';

export type AgentObject = V1ServiceAccount | V1Secret | V1Deployment | V1PodDisruptionBudget | V1Job;

/** Every kind of object Hubcap has ever made for a topic (older versions also made a ConfigMap). */
export const AGENT_KINDS = [
  'Deployment',
  'PodDisruptionBudget',
  'ConfigMap',
  'Secret',
  'ServiceAccount',
] as const;
export type AgentKind = (typeof AGENT_KINDS)[number];

/** Keys of the topic's Secret. */
export const SECRET_KEYS = { agentToken: 'agent-token' } as const;

export const AGENT_PORT = 8080;
const UID = 1000;
const SPILL_PATH = '/spill';

/** How the pods of a rollout replace each other. */
export interface RolloutOptions {
  /**
   * Stop every old pod before starting a new one (`Recreate`), for a new file layout (see
   * `fileLayout` in @hubcap/shared). Otherwise a new pod starts before an old one stops.
   */
  recreate?: boolean;
}

/** Client ids of the managed identities the topic uses (Event Hubs and storage may differ). */
function workloadIdentity(config: TopicConfig): { used: boolean; clientId?: string } {
  const ids: (string | undefined)[] = [];
  if (config.source.auth.kind === 'workloadIdentity') ids.push(config.source.auth.clientId);
  if (config.destination.kind === 'azureBlob' && config.destination.account.kind === 'workloadIdentity')
    ids.push(config.destination.account.clientId);
  const clientId = ids.find((id) => id !== undefined);
  return clientId === undefined ? { used: ids.length > 0 } : { used: true, clientId };
}

const b64 = (value: string) => Buffer.from(value, 'utf8').toString('base64');

/** The Secret that holds an agent's (or a replay run's) token: the only secret a pod gets. */
function agentTokenSecret(metadata: V1Secret['metadata'], agentToken: string): V1Secret {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata,
    type: 'Opaque',
    data: { [SECRET_KEYS.agentToken]: b64(agentToken) },
  };
}

export function hashOf(value: unknown): string {
  return createHash('sha256').update(JSON.stringify(value)).digest('hex').slice(0, 32);
}

const restricted: V1SecurityContext = {
  runAsNonRoot: true,
  runAsUser: UID,
  runAsGroup: UID,
  allowPrivilegeEscalation: false,
  readOnlyRootFilesystem: true,
  capabilities: { drop: ['ALL'] },
  seccompProfile: { type: 'RuntimeDefault' },
};

/**
 * The objects of one topic's agent, in apply order: ServiceAccount, Secret, [PDB], Deployment. Pure:
 * the same spec gives the same objects (golden files rely on it).
 *
 * The agent gets its config from the control plane (`agent.config`, with its token), like every
 * agent, and takes a new version in place when it can. So the pod template holds only what a process
 * is started with (image, limits, identity, token, file layout): a save that changes nothing of it
 * rolls no pod, and one that does rolls them.
 */
export function manifests(
  spec: AgentDeploymentSpec,
  target: KubernetesTarget,
  rollout: RolloutOptions = {},
): AgentObject[] {
  if (spec.agentToken === null) throw new Error('manifests need the agent token');
  const { topic, config } = spec;
  const name = objectName(topic);
  const namespace = target.namespace;
  const version = labelValue(imageTag(target.image)) || 'latest';
  const labels = {
    'app.kubernetes.io/name': 'hubcap-agent',
    'app.kubernetes.io/instance': name,
    'app.kubernetes.io/component': 'agent',
    'app.kubernetes.io/part-of': 'hubcap',
    'app.kubernetes.io/managed-by': 'hubcap',
    'app.kubernetes.io/version': version,
    ...selectorLabels(topic),
    [TOPIC_LABEL]: topic.name,
  };
  const metadata = { name, namespace, labels };
  const identity = workloadIdentity(config);
  const drainMs = target.drainTimeoutMs ?? 25_000;
  const replicas = spec.paused ? 0 : config.scaling.replicas;

  const saAnnotations = {
    ...target.serviceAccountAnnotations,
    ...(identity.clientId ? { 'azure.workload.identity/client-id': identity.clientId } : {}),
  };
  // The pod's identity: a topic that names no client id uses the one the ServiceAccount annotations give.
  const usesIdentity = identity.used || 'azure.workload.identity/client-id' in saAnnotations;
  const serviceAccount: V1ServiceAccount = {
    apiVersion: 'v1',
    kind: 'ServiceAccount',
    metadata: Object.keys(saAnnotations).length ? { ...metadata, annotations: saAnnotations } : metadata,
    automountServiceAccountToken: false,
  };
  const secret = agentTokenSecret(metadata, spec.agentToken);

  const agentEnv: V1EnvVar[] = [
    { name: 'HUBCAP_CONTROL_PLANE_URL', value: target.controlPlaneUrl },
    { name: 'HUBCAP_AGENT_TOKEN', valueFrom: { secretKeyRef: { name, key: SECRET_KEYS.agentToken } } },
    { name: 'HUBCAP_HTTP_PORT', value: String(AGENT_PORT) },
    { name: 'HUBCAP_DRAIN_TIMEOUT_MS', value: String(drainMs) },
    { name: 'HUBCAP_AGENT_ID', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
    // V8's heap (and, for Parquet, DuckDB's memory) sized to the container's memory limit; two malloc arenas.
    ...Object.entries(agentProcessEnv(config.scaling.memory, config.format.type)).map(([name, value]) => ({
      name,
      value,
    })),
  ];
  // Parquet files need their whole segment before the footer is written: the agent spills it to disk.
  // Up to two segments' worth per owned partition, so the volume is bounded by the node's ephemeral
  // storage rather than a fixed size that a large segment would overflow.
  const spills = config.format.type === 'parquet';
  if (spills) agentEnv.push({ name: 'HUBCAP_SPILL_DIR', value: SPILL_PATH });

  const podLabels = { ...labels, ...(usesIdentity ? { 'azure.workload.identity/use': 'true' } : {}) };
  const deployment: V1Deployment = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      ...metadata,
      annotations: {
        [REPLICAS_ANNOTATION]: String(config.scaling.replicas),
        // On the Deployment, not its pods: a new version alone rolls nothing (agents take it in place).
        [CONFIG_VERSION_ANNOTATION]: String(spec.configVersion),
      },
    },
    spec: {
      replicas,
      revisionHistoryLimit: 3,
      selector: { matchLabels: selectorLabels(topic) },
      // Replicas share partitions through blob leases: a new pod starts before an old one stops, unless
      // the file layout changes (then old and new pods must never run together).
      strategy: rollout.recreate
        ? { type: 'Recreate' }
        : { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
      template: {
        metadata: {
          labels: podLabels,
          annotations: {
            // The token is read at start (an environment variable) and so is the file layout.
            [TOKEN_HASH_ANNOTATION]: hashOf(spec.agentToken),
            [FILE_LAYOUT_ANNOTATION]: hashOf(fileLayout(config)),
          },
        },
        spec: {
          serviceAccountName: name,
          automountServiceAccountToken: false,
          enableServiceLinks: false,
          // The agent drains open files on SIGTERM for up to drainMs; leave room to upload and checkpoint.
          terminationGracePeriodSeconds: Math.ceil(drainMs / 1000) + 15,
          securityContext: {
            runAsNonRoot: true,
            runAsUser: UID,
            runAsGroup: UID,
            fsGroup: UID,
            seccompProfile: { type: 'RuntimeDefault' },
          },
          containers: [
            {
              name: 'agent',
              image: target.image,
              imagePullPolicy: target.imagePullPolicy ?? 'IfNotPresent',
              env: agentEnv,
              ports: [{ name: 'http', containerPort: AGENT_PORT, protocol: 'TCP' }],
              livenessProbe: {
                httpGet: { path: '/healthz', port: 'http' },
                initialDelaySeconds: 10,
                periodSeconds: 10,
                timeoutSeconds: 3,
                failureThreshold: 3,
              },
              readinessProbe: {
                httpGet: { path: '/readyz', port: 'http' },
                periodSeconds: 5,
                timeoutSeconds: 3,
                failureThreshold: 3,
              },
              resources: {
                requests: { cpu: config.scaling.cpu, memory: config.scaling.memory },
                limits: { cpu: config.scaling.cpu, memory: config.scaling.memory },
              },
              securityContext: restricted,
              volumeMounts: [
                { name: 'tmp', mountPath: '/tmp' },
                ...(spills ? [{ name: 'spill', mountPath: SPILL_PATH }] : []),
              ],
            },
          ],
          volumes: [
            { name: 'tmp', emptyDir: { sizeLimit: '64Mi' } },
            ...(spills ? [{ name: 'spill', emptyDir: {} }] : []),
          ],
        },
      },
    },
  };
  const objects: AgentObject[] = [serviceAccount, secret];
  if (target.podDisruptionBudget) {
    objects.push({
      apiVersion: 'policy/v1',
      kind: 'PodDisruptionBudget',
      metadata,
      spec: { maxUnavailable: 1, selector: { matchLabels: selectorLabels(topic) } },
    } satisfies V1PodDisruptionBudget);
  }
  objects.push(deployment);
  return objects;
}

/** The name of a one-off run's Job and Secret: `hubcap-<run>` (runs are unique per cluster). */
export const jobObjectName = (spec: Pick<AgentJobSpec, 'name'>) => `hubcap-${spec.name}`;
/** A finished run's Job (and its pods' logs) stays this long, then Kubernetes removes it. */
const JOB_TTL_SECONDS = 7 * 86_400;

/**
 * A one-off run of the topic's agent, in apply order: the topic's ServiceAccount, the run's Secret
 * (its own token) and a Job whose pod is the agent's (same image, limits, identity), told which run it
 * is by `spec.env`. Failed pods are replaced up to JOB_BACKOFF_LIMIT times; each resumes from the
 * run's own checkpoints. Labelled with the topic, so removing the topic removes its runs.
 */
export function jobManifests(spec: AgentJobSpec, target: KubernetesTarget): AgentObject[] {
  const [serviceAccount, , ...rest] = manifests({ ...spec, paused: false }, target);
  const deployment = rest.find((o) => o.kind === 'Deployment') as V1Deployment;
  const name = jobObjectName(spec);
  const labels = {
    ...deployment.metadata!.labels,
    'app.kubernetes.io/component': 'replay',
    'hubcap.io/run': spec.name,
  };
  const metadata = { name, namespace: target.namespace, labels };
  const secret = agentTokenSecret(metadata, spec.agentToken);
  const pod = deployment.spec!.template.spec!;
  const agent = pod.containers[0]!;
  const env: V1EnvVar[] = [
    ...agent.env!.map((e) =>
      e.name === 'HUBCAP_AGENT_TOKEN'
        ? { name: e.name, valueFrom: { secretKeyRef: { name, key: SECRET_KEYS.agentToken } } }
        : e,
    ),
    ...Object.entries(spec.env).map(([k, value]) => ({ name: k, value })),
  ];
  const job: V1Job = {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata,
    spec: {
      backoffLimit: JOB_BACKOFF_LIMIT,
      ttlSecondsAfterFinished: JOB_TTL_SECONDS,
      template: {
        // Not the Deployment's selector labels: its PodDisruptionBudget and Service never count a run.
        metadata: { labels: { 'app.kubernetes.io/name': 'hubcap-replay', 'hubcap.io/run': spec.name } },
        spec: {
          ...pod,
          restartPolicy: 'Never',
          containers: [{ ...agent, env, readinessProbe: undefined }],
        },
      },
    },
  };
  return [serviceAccount!, secret, job];
}

/** `Kind/name`, for messages. */
export function describeObject(object: KubernetesObject): string {
  return `${object.kind}/${object.metadata?.name}`;
}

/**
 * The objects as multi-document YAML for GitOps. Secret values are replaced by REDACTED unless
 * `redactSecrets` is false: bring your own Secret (Sealed Secrets, External Secrets, SOPS…).
 */
export function toYaml(objects: KubernetesObject[], options: { redactSecrets?: boolean } = {}): string {
  const redact = options.redactSecrets ?? true;
  const docs = objects.map((object) => {
    const isSecret = object.kind === 'Secret';
    const doc = new Document(object, { aliasDuplicateObjects: false });
    if (isSecret && redact) {
      const data = doc.get('data');
      if (isMap(data)) {
        for (const item of data.items) if (isScalar(item.value)) item.value.value = REDACTED;
        doc.delete('data');
        doc.set('stringData', data);
      }
      doc.commentBefore = [
        ' Secret values are REDACTED: they are not exported. Create this Secret yourself with the same',
        ' name and keys (for example with Sealed Secrets, External Secrets or SOPS), then leave this',
        ' document out of what you apply. agent-token: issue one in the Hubcap UI (topic page, Agent',
        ' tokens); the agent fetches its config, connection strings included, from the control plane.',
      ].join('\n');
    }
    return doc.toString({ lineWidth: 0 });
  });
  const header = [
    '# Hubcap agent manifests, generated by the control plane.',
    '# Apply with server-side apply: kubectl apply --server-side --field-manager=hubcap -f <file>',
  ].join('\n');
  return `${header}\n---\n${docs.join('---\n')}`;
}

/** Stable YAML of one value (golden files, tests). */
export function yamlOf(value: unknown): string {
  return stringify(value, { lineWidth: 0, aliasDuplicateObjects: false });
}
