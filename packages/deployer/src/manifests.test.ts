import { readFileSync, writeFileSync } from 'node:fs';
import { SECRET_FIELDS } from '@hubcap/shared';
import { configWithEverySecret, SECRET_VALUES } from '@hubcap/shared/testing';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import {
  EH_SECRET,
  ordersConfig,
  STORAGE_SECRET,
  spec,
  TOKEN,
  target,
  workloadIdentityConfig,
} from '../test/fixtures.ts';
import { manifestProblems } from '../test/validate.ts';
import { manifests, SECRET_KEYS, toYaml } from './manifests.ts';

// biome-ignore lint/suspicious/noExplicitAny: manifests are inspected as plain JSON.
type Json = any;
const golden = (name: string) => new URL(`../test/golden/${name}`, import.meta.url);

function matchGolden(name: string, text: string) {
  if (process.env.UPDATE_GOLDEN === '1') writeFileSync(golden(name), text);
  expect(text).toBe(readFileSync(golden(name), 'utf8'));
}

const byKind = (objects: Json[], kind: string) => objects.find((o) => o.kind === kind);

describe('manifests', () => {
  it('are valid against the Kubernetes schemas and the extra checks, for both auth kinds', () => {
    expect(manifestProblems(manifests(spec(), target))).toEqual([]);
    expect(
      manifestProblems(manifests(spec(workloadIdentityConfig()), { ...target, podDisruptionBudget: false })),
    ).toEqual([]);
  });

  it('match the golden file for a typical topic (secrets redacted in the export)', () => {
    matchGolden('orders.yaml', toYaml(manifests(spec(), target)));
    matchGolden('clicks-workload-identity.yaml', toYaml(manifests(spec(workloadIdentityConfig()), target)));
  });

  it('give Parquet topics a spill volume for their segments, and other formats none', () => {
    const parquet = spec({ ...spec().config, format: { type: 'parquet', compression: 'zstd' } });
    const deployment: Json = byKind(manifests(parquet, target), 'Deployment');
    const pod = deployment.spec.template.spec;
    expect(pod.containers[0].env).toContainEqual({ name: 'HUBCAP_SPILL_DIR', value: '/spill' });
    expect(pod.containers[0].volumeMounts).toContainEqual({ name: 'spill', mountPath: '/spill' });
    expect(pod.volumes).toContainEqual({ name: 'spill', emptyDir: {} });
    expect(manifestProblems(manifests(parquet, target))).toEqual([]);
    const avro: Json = byKind(manifests(spec(), target), 'Deployment');
    expect(avro.spec.template.spec.volumes.map((v: Json) => v.name)).not.toContain('spill');
  });

  it.each(SECRET_FIELDS)('never hold the secret $path, applied or exported', ({ path }) => {
    const objects = manifests(spec(configWithEverySecret()), target);
    expect(JSON.stringify(objects)).not.toContain(SECRET_VALUES[path]);
    expect(toYaml(objects, { redactSecrets: false })).not.toContain(SECRET_VALUES[path]);
  });

  it('hold no connection string at all: the agent fetches its config from the control plane with its token', () => {
    const objects: Json[] = manifests(spec(), target);
    const text = JSON.stringify(objects);
    for (const secretText of [EH_SECRET, STORAGE_SECRET, 'EH-KEY-123', 'STORAGE-KEY-456'])
      expect(text).not.toContain(secretText);
    const secret = byKind(objects, 'Secret');
    expect(Object.keys(secret.data)).toEqual([SECRET_KEYS.agentToken]);
    expect(Buffer.from(secret.data[SECRET_KEYS.agentToken], 'base64').toString('utf8')).toBe(TOKEN);
    const env = byKind(objects, 'Deployment').spec.template.spec.containers[0].env;
    expect(env).toContainEqual({ name: 'HUBCAP_CONTROL_PLANE_URL', value: target.controlPlaneUrl });
    expect(env.map((e: Json) => e.name)).not.toContain('HUBCAP_CONFIG_FILE');
    const exported = toYaml(objects);
    for (const secretText of [TOKEN, secret.data[SECRET_KEYS.agentToken]])
      expect(exported).not.toContain(secretText);
    expect(exported).toContain('REDACTED');
    expect(exported).toMatch(/# Secret values are REDACTED/);
    const docs = parseAllDocuments(exported).map((d) => d.toJS());
    expect(docs.map((d) => d.kind)).toEqual([
      'ServiceAccount',
      'Secret',
      'PodDisruptionBudget',
      'Deployment',
    ]);
  });

  it('need no Secret value in Azure with workload identity: only the agent token, and the identity annotations', () => {
    const objects: Json[] = manifests(spec(workloadIdentityConfig()), target);
    expect(Object.keys(byKind(objects, 'Secret').data)).toEqual([SECRET_KEYS.agentToken]);
    expect(byKind(objects, 'ServiceAccount').metadata.annotations).toEqual({
      'azure.workload.identity/client-id': '3f2504e0-4f89-11d3-9a0c-0305e82c3301',
    });
    const pod = byKind(objects, 'Deployment').spec.template;
    expect(pod.metadata.labels['azure.workload.identity/use']).toBe('true');
  });

  it('use the identity the control plane gives every agent when a topic names no client id', () => {
    const config = workloadIdentityConfig();
    if (config.source.auth.kind === 'workloadIdentity') delete config.source.auth.clientId;
    if (config.destination.kind === 'azureBlob' && config.destination.account.kind === 'workloadIdentity')
      delete config.destination.account.clientId;
    const annotations = { 'azure.workload.identity/client-id': '11111111-2222-3333-4444-555555555555' };
    const objects: Json[] = manifests(spec(config), { ...target, serviceAccountAnnotations: annotations });
    expect(byKind(objects, 'ServiceAccount').metadata.annotations).toEqual(annotations);
    expect(byKind(objects, 'Deployment').spec.template.metadata.labels['azure.workload.identity/use']).toBe(
      'true',
    );
    // With connection strings and no identity anywhere, the webhook is not asked to inject one.
    const plain: Json[] = manifests(spec(), target);
    expect(byKind(plain, 'Deployment').spec.template.metadata.labels).not.toHaveProperty(
      'azure.workload.identity/use',
    );
  });

  it('set replicas, resources, probes, a restricted security context and a grace period beyond the drain deadline', () => {
    const deployment: Json = byKind(manifests(spec(), { ...target, drainTimeoutMs: 25_000 }), 'Deployment');
    expect(deployment.spec.replicas).toBe(2);
    const pod = deployment.spec.template.spec;
    const agent = pod.containers[0];
    expect(agent.resources).toEqual({
      requests: { cpu: '500m', memory: '768Mi' },
      limits: { cpu: '500m', memory: '768Mi' },
    });
    expect(agent.livenessProbe.httpGet.path).toBe('/healthz');
    expect(agent.readinessProbe.httpGet.path).toBe('/readyz');
    expect(pod.initContainers).toBeUndefined();
    for (const c of pod.containers) {
      expect(c.securityContext).toMatchObject({
        runAsNonRoot: true,
        readOnlyRootFilesystem: true,
        allowPrivilegeEscalation: false,
      });
    }
    expect(pod.terminationGracePeriodSeconds).toBeGreaterThan(25);
    const env = Object.fromEntries(agent.env.map((e: Json) => [e.name, e.value ?? e.valueFrom]));
    expect(env.HUBCAP_DRAIN_TIMEOUT_MS).toBe('25000');
    expect(env.HUBCAP_AGENT_TOKEN).toEqual({
      secretKeyRef: { name: 'hubcap-agent-orders', key: 'agent-token' },
    });
    expect(deployment.metadata.labels).toMatchObject({
      'app.kubernetes.io/name': 'hubcap-agent',
      'app.kubernetes.io/instance': 'hubcap-agent-orders',
      'app.kubernetes.io/managed-by': 'hubcap',
      'app.kubernetes.io/version': '0.1.0',
      'hubcap.io/topic-id': 'cm1topic0orders',
    });
  });

  it('change the pod template only for what a process starts with: a new batching setting rolls no pod', () => {
    const template = (objects: Json[]) => JSON.stringify(byKind(objects, 'Deployment').spec.template);
    const base = template(manifests(spec(), target));
    expect(template(manifests(spec(), target))).toBe(base);
    const bigger = ordersConfig({ batching: { maxEvents: 5000 } });
    expect(template(manifests(spec(bigger, { configVersion: 4 }), target))).toBe(base);
    expect(template(manifests(spec(ordersConfig(), { agentToken: 'hca_other' }), target))).not.toBe(base);
    expect(
      template(
        manifests(
          spec(ordersConfig({ pathTemplate: 'topic={topic}/partition={partition}/{yyyy}{MM}{dd}' })),
          target,
        ),
      ),
    ).not.toBe(base);
    expect(template(manifests(spec(ordersConfig({ scaling: { memory: '1Gi' } })), target))).not.toBe(base);
    const deployment = byKind(manifests(spec(bigger, { configVersion: 4 }), target), 'Deployment');
    expect(deployment.metadata.annotations['hubcap.io/config-version']).toBe('4');
  });

  it('replace pods with Recreate when asked (a new file layout), with a rolling update otherwise', () => {
    const rolling = byKind(manifests(spec(), target), 'Deployment');
    expect(rolling.spec.strategy).toEqual({
      type: 'RollingUpdate',
      rollingUpdate: { maxSurge: 1, maxUnavailable: 0 },
    });
    const objects = manifests(spec(), target, { recreate: true });
    expect(byKind(objects, 'Deployment').spec.strategy).toEqual({ type: 'Recreate' });
    expect(manifestProblems(objects)).toEqual([]);
  });

  it('size the heap and, for Parquet, DuckDB from the memory limit, with two malloc arenas', () => {
    const env = (config: Json) =>
      byKind(manifests(spec(config), target), 'Deployment').spec.template.spec.containers[0].env;
    expect(env(ordersConfig({ scaling: { memory: '512Mi' } }))).toContainEqual({
      name: 'NODE_OPTIONS',
      value: '--max-semi-space-size=8 --max-old-space-size=320',
    });
    expect(
      env(ordersConfig({ scaling: { memory: '512Mi' }, format: { type: 'parquet', compression: 'zstd' } })),
    ).toContainEqual({ name: 'NODE_OPTIONS', value: '--max-semi-space-size=8 --max-old-space-size=192' });
    expect(env(ordersConfig())).toContainEqual({ name: 'MALLOC_ARENA_MAX', value: '2' });
  });

  it('scale to zero when paused but remember the replicas to resume to', () => {
    const deployment: Json = byKind(manifests(spec(ordersConfig(), { paused: true }), target), 'Deployment');
    expect(deployment.spec.replicas).toBe(0);
    expect(deployment.metadata.annotations['hubcap.io/replicas']).toBe('2');
  });

  it('yield names that stay valid for the longest topic name', () => {
    const name = `${'a'.repeat(39)}z`;
    const config = ordersConfig({ topic: name });
    expect(manifestProblems(manifests(spec(config), target))).toEqual([]);
  });
});

describe('the manifest checker itself', () => {
  const broken = (mutate: (objects: Json[]) => void) => {
    const objects: Json[] = structuredClone(manifests(spec(), target));
    mutate(objects);
    return manifestProblems(objects).join('\n');
  };
  const deployment = (objects: Json[]) => byKind(objects, 'Deployment');

  it('catches a missing image, an unknown field, a selector mismatch, a bad name and a wrong type', () => {
    expect(broken((o) => delete deployment(o).spec.template.spec.containers[0].image)).toMatch(
      /has no image/,
    );
    expect(
      broken((o) => (deployment(o).spec.template.spec.containers[0].imagePullPolicyy = 'Always')),
    ).toMatch(/imagePullPolicyy: unknown field/);
    expect(broken((o) => (deployment(o).spec.selector.matchLabels['hubcap.io/topic-id'] = 'other'))).toMatch(
      /selector does not match/,
    );
    expect(broken((o) => (deployment(o).metadata.name = 'Hubcap_Agent'))).toMatch(/invalid name/);
    expect(broken((o) => (deployment(o).spec.replicas = 'two'))).toMatch(/schema/);
    expect(broken((o) => (byKind(o, 'Secret').metadata.name = 'other'))).toMatch(/missing Secret/);
  });
});
