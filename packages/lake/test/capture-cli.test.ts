import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { type Azurite, startAzurite } from '@hubcap/local-azurite';
import { segmentFileName } from '@hubcap/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCaptureCommand } from '../src/index.ts';
import { avroFile, captureName, records, upload } from './capture-files.ts';

let azurite: Azurite;
beforeAll(async () => {
  azurite = await startAzurite();
});
afterAll(async () => {
  await azurite?.close();
});

async function run(...argv: string[]) {
  const lines: string[] = [];
  const code = await runCaptureCommand(
    argv,
    { HUBCAP_STORAGE_CONNECTION_STRING: azurite.connectionString },
    (l) => lines.push(l),
  );
  return { code, out: lines.join('\n') };
}

describe('capture-plan and capture-report on the command line', () => {
  it('print the plan and the continuity per partition, exit 1 on a gap', async () => {
    const capture = await azurite.container();
    const lake = await azurite.container();
    const at = new Date(Date.UTC(2026, 2, 7, 9, 5, 2));
    await upload(capture, captureName('0', at), await avroFile(records(0, 9)));
    await upload(capture, captureName('1', at), await avroFile(records(0, 4)));
    const where = ['--container', capture.containerName, '--namespace', 'contoso', '--hub', 'orders'];

    const plan = await run('capture-plan', ...where);
    expect(plan).toEqual({
      code: 0,
      out: [
        `partition 0: Capture's last 9 (2026-03-07T09:05:02.000Z, ${captureName('0', at)}) → Hubcap's first 10`,
        `partition 1: Capture's last 4 (2026-03-07T09:05:02.000Z, ${captureName('1', at)}) → Hubcap's first 5`,
      ].join('\n'),
    });
    expect((await run('capture-plan', ...where, '--partitions', '0,1,2')).code).toBe(1);

    await upload(lake, segmentFileName('0', 10, 20, '.ndjson'), Buffer.from('{}'));
    await upload(lake, segmentFileName('1', 7, 20, '.ndjson'), Buffer.from('{}'));
    const report = await run('capture-report', ...where, '--lake-container', lake.containerName);
    expect(report.code).toBe(1);
    expect(report.out).toContain(': continuous');
    expect(report.out).toContain('GAP: 5–6 (2 events) landed by neither');
  });

  it('explains usage, bad path formats and unreachable storage with exit code 2', async () => {
    expect((await run('capture-plan')).out).toMatch(/^--container is required\n\nUsage:/);
    const bad = await run(
      'capture-plan',
      '--container',
      'c',
      '--namespace',
      'n',
      '--hub',
      'h',
      '--path-format',
      '../{Namespace}',
    );
    expect(bad.code).toBe(2);
    expect(bad.out).toMatch(
      /^--path-format must not contain "\." or "\.\." path segments; must contain every Capture token/,
    );
    expect((await run('frobnicate')).out).toMatch(/^unknown command "frobnicate"/);
    const missing = await run('capture-plan', '--container', 'nope-nope', '--namespace', 'n', '--hub', 'h');
    expect(missing).toEqual({ code: 2, out: 'cannot list nope-nope/: container "nope-nope" does not exist' });
  });

  it('runs as a command', () => {
    const cli = fileURLToPath(new URL('../src/capture/cli.ts', import.meta.url));
    const result = spawnSync(process.execPath, [cli, 'capture-plan'], {
      encoding: 'utf8',
      env: { PATH: process.env.PATH },
    });
    expect(result.status).toBe(2);
    expect(result.stdout).toMatch(/^HUBCAP_STORAGE_CONNECTION_STRING is not set\n/);
  });
});
