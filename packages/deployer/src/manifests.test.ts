import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TopicConfig } from '@hubcap/shared';
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
import { manifests, RENDER_CONFIG_SCRIPT, SECRET_KEYS, toYaml } from './manifests.ts';

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

  it('keep connection strings out of the ConfigMap and the export, and in the Secret', () => {
    const objects: Json[] = manifests(spec(), target);
    const configMap = JSON.stringify(byKind(objects, 'ConfigMap'));
    expect(configMap).not.toContain('EH-KEY-123');
    expect(configMap).not.toContain('STORAGE-KEY-456');
    const secret = byKind(objects, 'Secret');
    const decoded = (key: string) => Buffer.from(secret.data[key], 'base64').toString('utf8');
    expect(decoded(SECRET_KEYS.eventHubs)).toBe(EH_SECRET);
    expect(decoded(SECRET_KEYS.storage)).toBe(STORAGE_SECRET);
    expect(decoded(SECRET_KEYS.agentToken)).toBe(TOKEN);
    const exported = toYaml(objects);
    for (const secretText of ['EH-KEY-123', 'STORAGE-KEY-456', TOKEN, secret.data[SECRET_KEYS.agentToken]])
      expect(exported).not.toContain(secretText);
    expect(exported).toContain('REDACTED');
    expect(exported).toMatch(/# Secret values are REDACTED/);
    const docs = parseAllDocuments(exported).map((d) => d.toJS());
    expect(docs.map((d) => d.kind)).toEqual([
      'ServiceAccount',
      'Secret',
      'ConfigMap',
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
    for (const c of [...pod.initContainers, ...pod.containers]) {
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

  it('change the config-hash annotation when the config or a secret changes, and only then', () => {
    const hash = (objects: Json[]) =>
      byKind(objects, 'Deployment').spec.template.metadata.annotations['hubcap.io/config-hash'];
    const base = hash(manifests(spec(), target));
    expect(hash(manifests(spec(), target))).toBe(base);
    const bigger = ordersConfig({ batching: { maxEvents: 5000 } });
    expect(hash(manifests(spec(bigger), target))).not.toBe(base);
    expect(hash(manifests(spec(ordersConfig(), { agentToken: 'hca_other' }), target))).not.toBe(base);
  });

  it('scale to zero when paused but remember the replicas to resume to', () => {
    const deployment: Json = byKind(manifests(spec(ordersConfig(), { paused: true }), target), 'Deployment');
    expect(deployment.spec.replicas).toBe(0);
    expect(deployment.metadata.annotations['hubcap.io/replicas']).toBe('2');
  });

  it("render, in the init container's script, the exact config the agent needs (run here with Node)", () => {
    const objects: Json[] = manifests(spec(), target);
    const dir = mkdtempSync(join(tmpdir(), 'hubcap-render-'));
    try {
      writeFileSync(join(dir, 'template.json'), byKind(objects, 'ConfigMap').data['config.json']);
      const secret = byKind(objects, 'Secret').data;
      const init = byKind(objects, 'Deployment').spec.template.spec.initContainers[0];
      expect(init.command.slice(0, 2)).toEqual(['node', '-e']);
      execFileSync(process.execPath, ['-e', init.command[2]], {
        env: {
          HUBCAP_CONFIG_TEMPLATE: join(dir, 'template.json'),
          HUBCAP_CONFIG_FILE: join(dir, 'config.json'),
          HUBCAP_EVENTHUBS_CONNECTION_STRING: Buffer.from(secret[SECRET_KEYS.eventHubs], 'base64').toString(),
          HUBCAP_STORAGE_CONNECTION_STRING: Buffer.from(secret[SECRET_KEYS.storage], 'base64').toString(),
        },
      });
      const rendered = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
      expect(TopicConfig.parse(rendered)).toEqual(ordersConfig());
      expect(init.command[2]).toBe(RENDER_CONFIG_SCRIPT);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
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
