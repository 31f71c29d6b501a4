import { createHash } from 'node:crypto';
import { agentNodeOptions, type TopicConfig } from '@hubcap/shared';
import type {
  KubernetesObject,
  V1ConfigMap,
  V1Deployment,
  V1EnvVar,
  V1PodDisruptionBudget,
  V1Secret,
  V1SecurityContext,
  V1ServiceAccount,
} from '@kubernetes/client-node';
import { Document, isMap, isScalar, stringify } from 'yaml';
import {
  CONFIG_HASH_ANNOTATION,
  CONFIG_VERSION_ANNOTATION,
  imageTag,
  labelValue,
  objectName,
  REPLICAS_ANNOTATION,
  selectorLabels,
  TOPIC_LABEL,
} from './names.ts';
import type { AgentDeploymentSpec } from './types.ts';

/** Where and how agents run on Kubernetes; the same for every topic of one control plane. */
export interface KubernetesTarget {
  namespace: string;
  /** Agent image, e.g. ghcr.io/acme/hubcap-agent:0.1.0. */
  image: string;
  imagePullPolicy?: 'Always' | 'IfNotPresent' | 'Never';
  /** URL agents report to (the control plane's Service); without it agents run without reporting. */
  controlPlaneUrl?: string;
  /** Adds a PodDisruptionBudget (maxUnavailable 1) per topic. */
  podDisruptionBudget?: boolean;
  /** Extra ServiceAccount annotations for every agent, e.g. azure.workload.identity/tenant-id. */
  serviceAccountAnnotations?: Record<string, string>;
  /** The agent's HUBCAP_DRAIN_TIMEOUT_MS; the termination grace period is 15 s longer. Default 25 000. */
  drainTimeoutMs?: number;
}

export type AgentObject = V1ServiceAccount | V1Secret | V1ConfigMap | V1Deployment | V1PodDisruptionBudget;

/** Keys of the topic's Secret. */
export const SECRET_KEYS = {
  agentToken: 'agent-token',
  eventHubs: 'eventhubs-connection-string',
  storage: 'storage-connection-string',
} as const;

export const AGENT_PORT = 8080;
const UID = 1000;
const CONFIG_TEMPLATE_PATH = '/etc/hubcap/config/config.json';
const CONFIG_PATH = '/run/hubcap/config.json';
const SPILL_PATH = '/spill';

/**
 * Run by the init container (same image, plain Node): the ConfigMap's config with the connection
 * strings from the Secret filled in, written to a memory-backed volume the agent reads. Connection
 * strings thus never sit in a ConfigMap, and the agent needs no Kubernetes-specific code.
 */
export const RENDER_CONFIG_SCRIPT = [
  "const fs = require('node:fs');",
  'const env = process.env;',
  "const config = JSON.parse(fs.readFileSync(env.HUBCAP_CONFIG_TEMPLATE, 'utf8'));",
  'if (env.HUBCAP_EVENTHUBS_CONNECTION_STRING) config.source.auth.connectionString = env.HUBCAP_EVENTHUBS_CONNECTION_STRING;',
  'if (env.HUBCAP_STORAGE_CONNECTION_STRING) config.destination.account.connectionString = env.HUBCAP_STORAGE_CONNECTION_STRING;',
  'fs.writeFileSync(env.HUBCAP_CONFIG_FILE, JSON.stringify(config), { mode: 0o600 });',
].join('\n');

const placeholder = (topic: string, key: string) =>
  `<from Secret ${objectName({ name: topic })}, key ${key}>`;

/** The config as the ConfigMap holds it (connection strings replaced by a pointer to the Secret), plus the secrets. */
export function splitConfig(config: TopicConfig): { document: TopicConfig; secrets: Record<string, string> } {
  const document = structuredClone(config);
  const secrets: Record<string, string> = {};
  if (document.source.auth.kind === 'connectionString') {
    secrets[SECRET_KEYS.eventHubs] = document.source.auth.connectionString;
    document.source.auth.connectionString = placeholder(config.topic, SECRET_KEYS.eventHubs);
  }
  if (document.destination.kind === 'azureBlob' && document.destination.account.kind === 'connectionString') {
    secrets[SECRET_KEYS.storage] = document.destination.account.connectionString;
    document.destination.account.connectionString = placeholder(config.topic, SECRET_KEYS.storage);
  }
  return { document, secrets };
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

function hashOf(value: unknown): string {
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
 * The objects of one topic's agent, in apply order: ServiceAccount, Secret, ConfigMap, [PDB],
 * Deployment. Pure: the same spec gives the same objects (golden files rely on it).
 */
export function manifests(spec: AgentDeploymentSpec, target: KubernetesTarget): AgentObject[] {
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
  const { document, secrets } = splitConfig(config);
  const secretData: Record<string, string> = { [SECRET_KEYS.agentToken]: spec.agentToken, ...secrets };
  const configData = { 'config.json': `${JSON.stringify(document, null, 2)}\n` };
  const drainMs = target.drainTimeoutMs ?? 25_000;
  const replicas = spec.paused ? 0 : config.scaling.replicas;

  const saAnnotations = {
    ...target.serviceAccountAnnotations,
    ...(identity.clientId ? { 'azure.workload.identity/client-id': identity.clientId } : {}),
  };
  const serviceAccount: V1ServiceAccount = {
    apiVersion: 'v1',
    kind: 'ServiceAccount',
    metadata: Object.keys(saAnnotations).length ? { ...metadata, annotations: saAnnotations } : metadata,
    automountServiceAccountToken: false,
  };
  const secret: V1Secret = {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata,
    type: 'Opaque',
    data: Object.fromEntries(Object.entries(secretData).map(([k, v]) => [k, b64(v)])),
  };
  const configMap: V1ConfigMap = { apiVersion: 'v1', kind: 'ConfigMap', metadata, data: configData };

  const secretEnv = (envName: string, key: string): V1EnvVar => ({
    name: envName,
    valueFrom: { secretKeyRef: { name, key } },
  });
  const initEnv: V1EnvVar[] = [
    { name: 'HUBCAP_CONFIG_TEMPLATE', value: CONFIG_TEMPLATE_PATH },
    { name: 'HUBCAP_CONFIG_FILE', value: CONFIG_PATH },
  ];
  if (secrets[SECRET_KEYS.eventHubs] !== undefined)
    initEnv.push(secretEnv('HUBCAP_EVENTHUBS_CONNECTION_STRING', SECRET_KEYS.eventHubs));
  if (secrets[SECRET_KEYS.storage] !== undefined)
    initEnv.push(secretEnv('HUBCAP_STORAGE_CONNECTION_STRING', SECRET_KEYS.storage));

  const agentEnv: V1EnvVar[] = [
    { name: 'HUBCAP_CONFIG_FILE', value: CONFIG_PATH },
    { name: 'HUBCAP_HTTP_PORT', value: String(AGENT_PORT) },
    { name: 'HUBCAP_DRAIN_TIMEOUT_MS', value: String(drainMs) },
    { name: 'HUBCAP_AGENT_ID', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
    // V8's heap sized to the container's memory limit, so garbage cannot outgrow it.
    { name: 'NODE_OPTIONS', value: agentNodeOptions(config.scaling.memory) },
  ];
  // Parquet files need their whole segment before the footer is written: the agent spills it to disk.
  // Up to two segments' worth per owned partition, so the volume is bounded by the node's ephemeral
  // storage rather than a fixed size that a large segment would overflow.
  const spills = config.format.type === 'parquet';
  if (spills) agentEnv.push({ name: 'HUBCAP_SPILL_DIR', value: SPILL_PATH });
  if (target.controlPlaneUrl) {
    agentEnv.push({ name: 'HUBCAP_CONTROL_PLANE_URL', value: target.controlPlaneUrl });
    agentEnv.push(secretEnv('HUBCAP_AGENT_TOKEN', SECRET_KEYS.agentToken));
  }

  const podLabels = { ...labels, ...(identity.used ? { 'azure.workload.identity/use': 'true' } : {}) };
  const deployment: V1Deployment = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      ...metadata,
      annotations: {
        [REPLICAS_ANNOTATION]: String(config.scaling.replicas),
        [CONFIG_VERSION_ANNOTATION]: String(spec.configVersion),
      },
    },
    spec: {
      replicas,
      revisionHistoryLimit: 3,
      selector: { matchLabels: selectorLabels(topic) },
      // Replicas share partitions through blob leases: start the new pod before stopping an old one.
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
      template: {
        metadata: {
          labels: podLabels,
          annotations: {
            // A new config (or a rotated secret) changes the pod template, so the pods roll.
            [CONFIG_HASH_ANNOTATION]: hashOf({ configData, secretData }),
            [CONFIG_VERSION_ANNOTATION]: String(spec.configVersion),
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
          initContainers: [
            {
              name: 'render-config',
              image: target.image,
              imagePullPolicy: target.imagePullPolicy ?? 'IfNotPresent',
              command: ['node', '-e', RENDER_CONFIG_SCRIPT],
              env: initEnv,
              resources: {
                requests: { cpu: '50m', memory: '64Mi' },
                limits: { cpu: '200m', memory: '128Mi' },
              },
              securityContext: restricted,
              volumeMounts: [
                { name: 'config', mountPath: '/etc/hubcap/config', readOnly: true },
                { name: 'runtime', mountPath: '/run/hubcap' },
              ],
            },
          ],
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
                { name: 'runtime', mountPath: '/run/hubcap', readOnly: true },
                { name: 'tmp', mountPath: '/tmp' },
                ...(spills ? [{ name: 'spill', mountPath: SPILL_PATH }] : []),
              ],
            },
          ],
          volumes: [
            { name: 'config', configMap: { name, defaultMode: 0o440 } },
            // Memory-backed: the rendered config holds connection strings.
            { name: 'runtime', emptyDir: { medium: 'Memory', sizeLimit: '1Mi' } },
            { name: 'tmp', emptyDir: { sizeLimit: '64Mi' } },
            ...(spills ? [{ name: 'spill', emptyDir: {} }] : []),
          ],
        },
      },
    },
  };
  const objects: AgentObject[] = [serviceAccount, secret, configMap];
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

/** `Kind/name`, for messages. */
export function describeObject(object: KubernetesObject): string {
  return `${object.kind}/${object.metadata?.name}`;
}

const REDACTED = 'REDACTED';

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
        ' document out of what you apply. agent-token: issue one per deployment in the Hubcap UI.',
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
