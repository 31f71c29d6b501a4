// Checks generated manifests the way an API server would, as far as that is possible offline:
// kubernetes-models' JSON-schema validation, plus what it misses (unknown fields, names, images,
// selectors that match, references between the objects).
import * as k8s from '@kubernetes/client-node';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { Job } from 'kubernetes-models/batch/v1/Job';
import { Ingress } from 'kubernetes-models/networking.k8s.io/v1/Ingress';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { Role } from 'kubernetes-models/rbac.authorization.k8s.io/v1/Role';
import { RoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/RoleBinding';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Secret } from 'kubernetes-models/v1/Secret';
import { Service } from 'kubernetes-models/v1/Service';
import { ServiceAccount } from 'kubernetes-models/v1/ServiceAccount';

// biome-ignore lint/suspicious/noExplicitAny: manifests are walked as plain JSON.
type Json = any;

const MODELS: Record<string, new (data: Json) => { validate(): void }> = {
  'v1/ConfigMap': ConfigMap,
  'v1/Secret': Secret,
  'v1/ServiceAccount': ServiceAccount,
  'v1/Service': Service,
  'apps/v1/Deployment': Deployment,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'batch/v1/Job': Job,
  'rbac.authorization.k8s.io/v1/Role': Role,
  'rbac.authorization.k8s.io/v1/RoleBinding': RoleBinding,
  'networking.k8s.io/v1/Ingress': Ingress,
};

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const QUALIFIED_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;

function keyProblems(key: string): string | null {
  const slash = key.lastIndexOf('/');
  const prefix = slash >= 0 ? key.slice(0, slash) : null;
  const name = slash >= 0 ? key.slice(slash + 1) : key;
  if (prefix !== null && (prefix.length > 253 || !DNS_SUBDOMAIN.test(prefix)))
    return `bad key prefix "${key}"`;
  if (name.length > 63 || !QUALIFIED_NAME.test(name)) return `bad key name "${key}"`;
  return null;
}

/** Unknown fields, by the client library's type map (the API server would drop or reject them). */
function unknownFields(value: Json, type: string, path: string, out: string[]): void {
  if (value === null || value === undefined) return;
  const array = /^Array<(.+)>$/.exec(type);
  if (array) {
    if (!Array.isArray(value)) out.push(`${path}: expected a list`);
    else
      value.forEach((item: Json, i: number) => {
        unknownFields(item, array[1]!, `${path}[${i}]`, out);
      });
    return;
  }
  const model = (k8s as Json)[type] as
    | { attributeTypeMap?: { baseName: string; type: string }[] }
    | undefined;
  if (!model?.attributeTypeMap) return;
  if (typeof value !== 'object' || Array.isArray(value)) {
    out.push(`${path}: expected an object`);
    return;
  }
  const fields = new Map(model.attributeTypeMap.map((a) => [a.baseName, a.type]));
  for (const [key, child] of Object.entries(value)) {
    const childType = fields.get(key);
    if (!childType) out.push(`${path}.${key}: unknown field`);
    else unknownFields(child, childType, `${path}.${key}`, out);
  }
}

function podSpecProblems(where: string, pod: Json, objects: Json[], out: string[]): void {
  const byKind = (kind: string, name: string) =>
    objects.find((o) => o.kind === kind && o.metadata?.name === name);
  const containers = [...(pod.initContainers ?? []), ...(pod.containers ?? [])];
  if (!pod.containers?.length) out.push(`${where}: no containers`);
  for (const c of containers) {
    if (!c.image || typeof c.image !== 'string') out.push(`${where}: container ${c.name} has no image`);
    if (!DNS_LABEL.test(c.name ?? '')) out.push(`${where}: container name "${c.name}" is not a DNS label`);
    const portNames = new Set((c.ports ?? []).map((p: Json) => p.name));
    for (const probe of [c.livenessProbe, c.readinessProbe, c.startupProbe]) {
      const port = probe?.httpGet?.port;
      if (typeof port === 'string' && !portNames.has(port))
        out.push(`${where}: container ${c.name} probes unknown port "${port}"`);
    }
    for (const env of c.env ?? []) {
      const ref = env.valueFrom?.secretKeyRef;
      if (ref && objects.some((o) => o.kind === 'Secret')) {
        const secret = byKind('Secret', ref.name);
        if (!secret) out.push(`${where}: env ${env.name} refers to missing Secret ${ref.name}`);
        else if (!(ref.key in { ...secret.data, ...secret.stringData }))
          out.push(`${where}: env ${env.name} refers to missing key ${ref.key} of Secret ${ref.name}`);
      }
    }
    const volumes = new Set((pod.volumes ?? []).map((v: Json) => v.name));
    for (const mount of c.volumeMounts ?? [])
      if (!volumes.has(mount.name))
        out.push(`${where}: container ${c.name} mounts unknown volume ${mount.name}`);
  }
  for (const volume of pod.volumes ?? []) {
    const cm = volume.configMap?.name;
    if (cm && objects.some((o) => o.kind === 'ConfigMap') && !byKind('ConfigMap', cm))
      out.push(`${where}: volume ${volume.name} refers to missing ConfigMap ${cm}`);
  }
  const sa = pod.serviceAccountName;
  if (sa && objects.some((o) => o.kind === 'ServiceAccount') && !byKind('ServiceAccount', sa))
    out.push(`${where}: serviceAccountName ${sa} is not among the objects`);
}

function selects(selector: Json, labels: Record<string, string>): boolean {
  const match = selector?.matchLabels ?? {};
  if (Object.keys(match).length === 0 && !selector?.matchExpressions) return false;
  return Object.entries(match).every(([k, v]) => labels[k] === v);
}

/**
 * Every problem found, as "Kind/name: …" lines; empty when the manifests look valid. `alone`: the
 * object is checked by itself, as an API server does (no references to the other objects).
 */
export function manifestProblems(objects: Json[], options: { alone?: boolean } = {}): string[] {
  const out: string[] = [];
  for (const object of objects) {
    const id = `${object.kind}/${object.metadata?.name}`;
    const Model = MODELS[`${object.apiVersion}/${object.kind}`];
    if (!Model) {
      out.push(`${id}: no schema for ${object.apiVersion} ${object.kind}`);
      continue;
    }
    try {
      new Model(structuredClone(object)).validate();
    } catch (error) {
      out.push(`${id}: schema: ${(error as Error).message}`);
    }
    unknownFields(object, `V1${object.kind}`, id, out);
    const name = object.metadata?.name ?? '';
    const nameRule = object.kind === 'Service' || object.kind === 'Deployment' ? DNS_LABEL : DNS_SUBDOMAIN;
    if (!nameRule.test(name) || name.length > (nameRule === DNS_LABEL ? 63 : 253))
      out.push(`${id}: invalid name "${name}"`);
    for (const [key, value] of Object.entries<string>(object.metadata?.labels ?? {})) {
      const problem = keyProblems(key);
      if (problem) out.push(`${id}: label ${problem}`);
      if (value.length > 63 || !LABEL_VALUE.test(value))
        out.push(`${id}: label ${key} has invalid value "${value}"`);
    }
    for (const key of Object.keys(object.metadata?.annotations ?? {})) {
      const problem = keyProblems(key);
      if (problem) out.push(`${id}: annotation ${problem}`);
    }
    const pod = object.kind === 'Job' || object.kind === 'Deployment' ? object.spec?.template : undefined;
    if (pod) {
      podSpecProblems(id, pod.spec ?? {}, objects, out);
      if (object.kind === 'Deployment' && !selects(object.spec.selector, pod.metadata?.labels ?? {}))
        out.push(`${id}: spec.selector does not match the pod template's labels`);
      if (object.spec?.strategy?.type === 'Recreate' && object.spec.strategy.rollingUpdate)
        out.push(`${id}: spec.strategy.rollingUpdate: may not be specified when strategy type is 'Recreate'`);
    }
    if (object.kind === 'PodDisruptionBudget' && !options.alone) {
      const targets = objects.filter(
        (o) =>
          o.kind === 'Deployment' && selects(object.spec?.selector, o.spec?.template?.metadata?.labels ?? {}),
      );
      if (targets.length === 0) out.push(`${id}: selects no Deployment's pods`);
    }
  }
  return out;
}
