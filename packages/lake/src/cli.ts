#!/usr/bin/env node
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { describeIssues, PATH_PRESETS, PathTemplate } from '@hubcap/shared';
import { z } from 'zod';
import { openStore } from './store.ts';
import { formatReport, verify } from './verify.ts';

const USAGE = `usage: hubcap verify <connection string | container URL | folder> [prefix] [options]

Audits a topic's files and completeness manifests; exit code 0 when every window is complete or open,
1 on any problem (gap, overlap, file without a manifest, missing file, checksum mismatch, lost at
source unless --allow-lost), 2 when it cannot run.

  --container <name>   the container (with a connection string)
  --template <t>       the topic's path template (default: Capture's, ${PATH_PRESETS.capture})
  --config <file>      a topic config (JSON) to read the template and prefix from
  --deep               recompute every file's MD5 from its bytes (default: the stored Content-MD5)
  --allow-lost         report ranges lost at source without failing
  --json               print the report as JSON`;

/** The part of a topic config verify needs; the rest (secrets included) is ignored. */
const TopicLayout = z.object({
  pathTemplate: PathTemplate,
  destination: z.object({ prefix: z.string().max(1024).optional() }).optional(),
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
  if (values.config) {
    const parsed = TopicLayout.safeParse(JSON.parse(await readFile(values.config, 'utf8')));
    if (!parsed.success) throw new Error(`${values.config}: ${describeIssues(parsed.error).join('; ')}`);
    template ??= parsed.data.pathTemplate;
    prefix ??= parsed.data.destination?.prefix;
  }
  const templateProblems = PathTemplate.safeParse(template ?? PATH_PRESETS.capture);
  if (!templateProblems.success)
    throw new Error(`--template: ${describeIssues(templateProblems.error).join('; ')}`);
  const report = await verify(openStore(location, values.container), {
    prefix: prefix ?? '',
    template: templateProblems.data,
    deep: values.deep,
    allowLost: values['allow-lost'],
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
