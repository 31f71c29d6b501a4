#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { BlobServiceClient } from '@azure/storage-blob';
import {
  type Continuity,
  CutoverDirection,
  capturePathFormatProblems,
  DEFAULT_CAPTURE_PATH_FORMAT,
  type LandedPosition,
} from '@hubcap/shared';
import { type CaptureSource, capturePlan, continuityReport } from './cutover.ts';
import { StorageUnreachableError } from './scan.ts';

export const CAPTURE_USAGE = `Usage:
  capture-plan   --container <c> --namespace <ns> --hub <hub> [--path-format <f>] [--partitions 0,1,…] [--json]
  capture-report --container <c> --namespace <ns> --hub <hub> --lake-container <c> [--lake-prefix <p>]
                 [--direction toHubcap|toCapture] [--path-format <f>] [--partitions 0,1,…] [--json]

The storage account comes from HUBCAP_STORAGE_CONNECTION_STRING (never from the command line).
--namespace is the namespace's name as Capture writes it (the first label of its host).
capture-plan prints per partition Capture's last event and the first sequence number Hubcap must land;
capture-report proves the handover per partition. Exit 0 when every partition is ready / continuous,
1 when any is not, 2 on a usage or storage error.`;

const OPTIONS = {
  container: { type: 'string' },
  namespace: { type: 'string' },
  hub: { type: 'string' },
  'path-format': { type: 'string', default: DEFAULT_CAPTURE_PATH_FORMAT },
  partitions: { type: 'string' },
  'lake-container': { type: 'string' },
  'lake-prefix': { type: 'string', default: '' },
  direction: { type: 'string', default: 'toHubcap' },
  json: { type: 'boolean', default: false },
} as const;

class UsageError extends Error {}

const at = (p: LandedPosition | null) =>
  p ? `${p.sequenceNumber} (${p.enqueuedTime ?? 'time unknown'}, ${p.file})` : '—';

function describeContinuity(c: Continuity): string {
  switch (c.state) {
    case 'continuous':
      return 'continuous';
    case 'gap':
      return `GAP: ${c.from}–${c.to} (${c.to - c.from + 1} events) landed by neither`;
    case 'overlap':
      return `OVERLAP: ${c.from}–${c.to} (${c.to - c.from + 1} events) landed by both`;
    case 'unknown':
      return `not proven: ${c.reason}`;
  }
}

/** Runs `capture-plan` or `capture-report`; returns the exit code. */
export async function runCaptureCommand(
  argv: readonly string[],
  env: Record<string, string | undefined>,
  print: (line: string) => void,
): Promise<number> {
  try {
    const [command, ...rest] = argv;
    if (command !== 'capture-plan' && command !== 'capture-report')
      throw new UsageError(command ? `unknown command "${command}"` : 'no command given');
    const { values } = parseArgs({ args: [...rest], options: OPTIONS, strict: true });
    const need = (name: keyof typeof values) => {
      const value = values[name];
      if (typeof value !== 'string' || value === '') throw new UsageError(`--${name} is required`);
      return value;
    };
    const problems = capturePathFormatProblems(values['path-format']);
    if (problems.length > 0) throw new UsageError(`--path-format ${problems.join('; ')}`);
    const connectionString = env.HUBCAP_STORAGE_CONNECTION_STRING;
    if (!connectionString) throw new UsageError('HUBCAP_STORAGE_CONNECTION_STRING is not set');
    const service = BlobServiceClient.fromConnectionString(connectionString, {
      retryOptions: { maxTries: 2 },
    });
    const source: CaptureSource = {
      container: service.getContainerClient(need('container')),
      pathFormat: values['path-format'],
      namespace: need('namespace'),
      hub: need('hub'),
    };
    const partitionIds = values.partitions
      ?.split(',')
      .map((p) => p.trim())
      .filter(Boolean);
    if (command === 'capture-plan') {
      const plan = await capturePlan(source, partitionIds);
      if (values.json) print(JSON.stringify(plan, null, 2));
      else {
        for (const p of plan.partitions)
          print(
            `partition ${p.partitionId}: Capture's last ${at(p.captureLast)} → Hubcap's first ${p.hubcapFirst ?? '—'}${p.problem ? `  PROBLEM: ${p.problem}` : ''}`,
          );
        for (const f of plan.fileProblems) print(`unreadable: ${f.message}`);
      }
      return plan.partitions.some((p) => p.problem) || plan.partitions.length === 0 ? 1 : 0;
    }
    {
      const direction = CutoverDirection.safeParse(values.direction);
      if (!direction.success) throw new UsageError('--direction must be toHubcap or toCapture');
      const landing = {
        container: service.getContainerClient(need('lake-container')),
        prefix: values['lake-prefix'],
      };
      const report = await continuityReport(source, landing, direction.data, partitionIds);
      if (values.json) print(JSON.stringify(report, null, 2));
      else {
        const [from, to] = direction.data === 'toHubcap' ? ['Capture', 'Hubcap'] : ['Hubcap', 'Capture'];
        for (const p of report.partitions)
          print(
            `partition ${p.partitionId}: ${from}'s last ${at(p.before)}, ${to}'s first ${at(p.after)}: ${describeContinuity(p.continuity)}`,
          );
        for (const f of report.fileProblems) print(`unreadable: ${f.message}`);
      }
      return report.partitions.every((p) => p.continuity.state === 'continuous') &&
        report.partitions.length > 0
        ? 0
        : 1;
    }
  } catch (error) {
    if (error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      print(`${(error as Error).message}\n\n${CAPTURE_USAGE}`);
      return 2;
    }
    if (error instanceof StorageUnreachableError) {
      print(error.message);
      return 2;
    }
    throw error;
  }
}

if (import.meta.main) {
  process.exitCode = await runCaptureCommand(process.argv.slice(2), process.env, (line) => console.log(line));
}
