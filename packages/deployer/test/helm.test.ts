// No Helm renderer is available here (none on npm or in Debian's archive), so the chart is checked
// statically: YAML structure with template actions blanked out, balanced blocks, every .Values path
// present in values.yaml, every included template defined, and the RBAC Role compared with the
// requests the deployer really sends. Not checked: rendering itself (Go template and Sprig semantics,
// indentation produced by nindent), value combinations, and `helm lint`; see deploy/README.md.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { KubernetesDeployer } from '../src/kubernetes/deployer.ts';
import { startFakeKubeApi } from './fake-kube-api.ts';
import { spec, target } from './fixtures.ts';

// biome-ignore lint/suspicious/noExplicitAny: YAML documents are walked as plain JSON.
type Json = any;

const chart = fileURLToPath(new URL('../../../deploy/helm/hubcap/', import.meta.url));
const templatesDir = join(chart, 'templates');
const templates = readdirSync(templatesDir)
  .filter((f) => f.endsWith('.yaml'))
  .map((name) => ({ name, text: readFileSync(join(templatesDir, name), 'utf8') }));
const helpers = readFileSync(join(templatesDir, '_helpers.tpl'), 'utf8');
const values = parse(readFileSync(join(chart, 'values.yaml'), 'utf8'));

/** The template with its actions blanked: lines holding only an action go, inline actions become a scalar. */
function staticYaml(text: string): string {
  return text
    .split('\n')
    .filter((line) => !/^\s*\{\{-?.*-?\}\}\s*$/.test(line))
    .map((line) => line.replace(/\{\{-?.*?-?\}\}/g, 'templated'))
    .join('\n');
}

const actions = (text: string) => [...text.matchAll(/\{\{-?\s*(.*?)\s*-?\}\}/gs)].map((m) => m[1]!);

describe('Helm chart (static checks; no renderer available here)', () => {
  it('has a valid Chart.yaml and values.yaml', () => {
    const meta = parse(readFileSync(join(chart, 'Chart.yaml'), 'utf8'));
    expect(meta).toMatchObject({ apiVersion: 'v2', name: 'hubcap', type: 'application' });
    expect(values.database.existingSecret).toBeTruthy();
    expect(values.encryptionKey.existingSecret).toBeTruthy();
  });

  for (const { name, text } of templates) {
    it(`${name}: balanced blocks, known values and templates, YAML with the expected kinds`, () => {
      let depth = 0;
      for (const action of actions(text)) {
        if (/^(if|with|range|define)\b/.test(action)) depth++;
        if (/^end\b/.test(action)) depth--;
        expect(depth).toBeGreaterThanOrEqual(0);
      }
      expect(depth).toBe(0);
      for (const path of text.matchAll(/\.Values((?:\.[A-Za-z0-9_]+)+)/g)) {
        const keys = path[1]!.slice(1).split('.');
        const value = keys.reduce<Json>((node, key) => (node === undefined ? undefined : node[key]), values);
        expect(value, `.Values${path[1]} is not in values.yaml`).not.toBeUndefined();
      }
      for (const include of text.matchAll(/include "([^"]+)"/g))
        expect(helpers, `template ${include[1]} is not defined`).toContain(`define "${include[1]}"`);
      const docs = parseAllDocuments(staticYaml(text));
      for (const doc of docs) expect(doc.errors.map(String)).toEqual([]);
      const kinds = docs
        .map((d) => d.toJS() as Json)
        .filter(Boolean)
        .map((d) => `${d.apiVersion} ${d.kind}`);
      expect(kinds.length).toBeGreaterThan(0);
      for (const kind of kinds)
        expect(kind).toMatch(
          /^(v1|apps\/v1|batch\/v1|networking\.k8s\.io\/v1|rbac\.authorization\.k8s\.io\/v1) [A-Z]\w+$/,
        );
    });
  }

  it('grants the control plane exactly the verbs and resources the deployer uses in the agents namespace', async () => {
    const api = await startFakeKubeApi();
    try {
      const deployer = new KubernetesDeployer({ ...target, kubeConfig: api.kubeConfig() });
      const topic = spec().topic;
      await deployer.apply(spec());
      await deployer.apply(spec(undefined, { agentToken: null }));
      const secretLabels = api.store.get(`${target.namespace}/secrets/hubcap-agent-orders`).metadata.labels;
      api.put(target.namespace, 'configmaps', {
        metadata: {
          name: 'hubcap-agent-orders',
          labels: secretLabels,
          managedFields: [{ manager: 'hubcap' }],
        },
      });
      // The PodDisruptionBudget turned off: the deployer removes it (and the older ConfigMap).
      await new KubernetesDeployer({
        ...target,
        podDisruptionBudget: false,
        kubeConfig: api.kubeConfig(),
      }).apply(spec(undefined, { agentToken: null }));
      const labels = api.store.get(`${target.namespace}/deployments/hubcap-agent-orders`).spec.template
        .metadata.labels;
      api.put(target.namespace, 'pods', { metadata: { name: 'p1', labels }, status: { phase: 'Running' } });
      await deployer.status(topic);
      await deployer.pause(topic);
      await deployer.resume(topic);
      await deployer.logs(topic);
      // A one-off run (a replay): applied, read, cancelled.
      const run = {
        topic,
        name: 'replay-r1',
        config: spec().config,
        configVersion: 1,
        agentToken: 'hca_run',
        env: {},
      };
      await deployer.runJob(run);
      await deployer.jobStatus(topic, run.name);
      await deployer.removeJob(topic, run.name);
      await deployer.remove(topic);
      const used = new Set<string>();
      for (const r of api.requests) {
        const m =
          /^\/(?:api\/v1|apis\/([^/]+)\/v1)\/namespaces\/[^/]+\/([^/]+)(?:\/([^/]+))?(?:\/(log))?$/.exec(
            r.path,
          );
        if (!m) continue; // discovery (/api/v1, /apis/apps/v1): allowed to every authenticated user
        const [, group = '', resource, name, sub] = m;
        // An apply that creates the object is authorized as create as well as patch.
        if (r.method === 'PATCH') used.add(`${group}/${resource}:create`);
        const verb =
          r.method === 'PATCH'
            ? 'patch'
            : r.method === 'DELETE'
              ? name
                ? 'delete'
                : 'deletecollection'
              : name
                ? 'get'
                : 'list';
        used.add(`${group}/${resource}${sub ? `/${sub}` : ''}:${verb}`);
      }
      const role = parseAllDocuments(staticYaml(templates.find((t) => t.name === 'rbac.yaml')!.text))
        .map((d) => d.toJS() as Json)
        .find((d) => d.kind === 'Role');
      const granted = new Set<string>();
      for (const rule of role.rules)
        for (const group of rule.apiGroups)
          for (const resource of rule.resources)
            for (const verb of rule.verbs) granted.add(`${group}/${resource}:${verb}`);
      expect([...granted].sort()).toEqual([...used].sort());
    } finally {
      await api.close();
    }
  });
});
