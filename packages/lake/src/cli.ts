#!/usr/bin/env node
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import {
  DEFAULT_CAPTURE_PATH_FORMAT,
  describeIssues,
  namespaceName,
  PATH_PRESETS,
  PathTemplate,
} from '@hubcap/shared';
import { z } from 'zod';
import { markersUncheckable } from './markers.ts';
import { openStore } from './store.ts';
import { formatReport, verify } from './verify.ts';

const USAGE = `usage: hubcap verify <connection string | container URL | folder> [prefix] [options]

Audits a topic's files, completeness manifests and topic markers; exit code 0 when every window is
complete or open, 1 on any problem (gap, overlap, file without a manifest, missing file, checksum
mismatch, a sealed window without its marker or a marker the manifests contradict, lost at source
unless --allow-lost), 2 when it cannot run.

  --container <name>   the container (with a connection string)
  --template <t>       the topic's path template (default: Capture's, ${PATH_PRESETS.capture})
  --config <file>      a topic config (JSON) to read the template and prefix from
  --deep               recompute every file's MD5 from its bytes (default: the stored Content-MD5)
  --allow-lost         report ranges lost at source without failing
  --json               print the report as JSON
  --namespace <ns>     the namespace's name (first label of its host), --hub <hub> the event hub, and
  --topic <name>       the topic: for a marker path (--marker-path) that uses them and the template does not
  --marker-path <t>    the topic's completeness.markerPath (default: _SUCCESS in the window folder)

Across a cutover from Event Hubs Capture (--namespace and --hub as Capture writes them):
  --capture                  also read Capture's Avro files of the hub; per partition, Hubcap's files
                             must continue Capture's last sequence number with no gap and no overlap
  --capture-path-format <f>  Capture's path format (default ${DEFAULT_CAPTURE_PATH_FORMAT})
  --capture-container <name> the container Capture writes to (default: the same as the lake's)`;

/** The part of a topic config verify needs; the rest (secrets included) is ignored. */
const TopicLayout = z.object({
  topic: z.string().max(40).optional(),
  pathTemplate: PathTemplate,
  source: z
    .object({ fullyQualifiedNamespace: z.string().max(256), eventHubName: z.string().max(256) })
    .partial()
    .optional(),
  destination: z.object({ prefix: z.string().max(1024).optional() }).optional(),
  completeness: z.object({ markerPath: z.string().max(512).optional() }).optional(),
});

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      container: { type: 'string' },
      template: { type: 'string' },
      config: { type: 'string' },
      deep: { type: 'boolean', default: false },
      'allow-lost': { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      namespace: { type: 'string' },
      hub: { type: 'string' },
      topic: { type: 'string' },
      'marker-path': { type: 'string' },
      capture: { type: 'boolean', default: false },
      'capture-path-format': { type: 'string', default: DEFAULT_CAPTURE_PATH_FORMAT },
      'capture-container': { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const [command, location, prefixArg] = positionals;
  if (values.help || command !== 'verify' || !location) {
    console.error(USAGE);
    return values.help ? 0 : 2;
  }
  let template = values.template;
  let prefix = prefixArg;
  let { namespace, hub, topic } = values;
  let markerPath = values['marker-path'];
  if (values.config) {
    const parsed = TopicLayout.safeParse(JSON.parse(await readFile(values.config, 'utf8')));
    if (!parsed.success) throw new Error(`${values.config}: ${describeIssues(parsed.error).join('; ')}`);
    const config = parsed.data;
    template ??= config.pathTemplate;
    prefix ??= config.destination?.prefix;
    const fqns = config.source?.fullyQualifiedNamespace;
    namespace ??= fqns === undefined ? undefined : namespaceName(fqns);
    hub ??= config.source?.eventHubName;
    topic ??= config.topic;
    markerPath ??= config.completeness?.markerPath;
  }
  if (markerPath !== undefined) {
    const problems = PathTemplate.safeParse(markerPath);
    if (!problems.success) throw new Error(`--marker-path: ${describeIssues(problems.error).join('; ')}`);
  }
  if (values.capture && (!namespace || !hub))
    throw new Error('--capture needs --namespace and --hub (or a --config naming the source)');
  if (values['capture-container'] && !(values.capture && values.container))
    throw new Error('--capture-container needs --capture, a connection string and --container');
  const templateProblems = PathTemplate.safeParse(template ?? PATH_PRESETS.capture);
  if (!templateProblems.success)
    throw new Error(`--template: ${describeIssues(templateProblems.error).join('; ')}`);
  const markers = { namespace, hub, topic, markerPath };
  // Asked for here, not skipped as a library caller may: a person can name what is missing.
  const uncheckable = markersUncheckable({ template: templateProblems.data, ...markers });
  if (uncheckable) throw new Error(uncheckable);
  const store = openStore(location, values.container);
  const report = await verify(store, {
    prefix: prefix ?? '',
    template: templateProblems.data,
    deep: values.deep,
    allowLost: values['allow-lost'],
    markers,
    ...(values.capture && namespace && hub
      ? {
          capture: {
            store: values['capture-container'] ? openStore(location, values['capture-container']) : store,
            pathFormat: values['capture-path-format'],
            namespace,
            hub,
          },
        }
      : {}),
  });
  console.log(values.json ? JSON.stringify(report, null, 2) : formatReport(report));
  return report.ok ? 0 : 1;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: Error) => {
    console.error(`hubcap verify: ${error.message}`);
    process.exitCode = 2;
  },
);
