import type { HubOptions, LocalEventHubsOptions } from './server.ts';

export class UsageError extends Error {
  override name = 'UsageError';
}

/** Parses `name:partitions[:group1,group2]`, e.g. `orders:4:agents,audit`. */
export function parseHubSpec(spec: string): HubOptions {
  const [name, count, groups] = spec.split(':');
  const partitionCount = Number(count ?? '4');
  if (!name || !Number.isInteger(partitionCount) || partitionCount < 1) {
    throw new UsageError(`--hub expects name:partitions[:group,group], got '${spec}'`);
  }
  const consumerGroups = groups ? groups.split(',').filter((g) => g !== '') : [];
  return { name, partitionCount, consumerGroups };
}

export function parsePositiveNumber(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0)
    throw new UsageError(`${flag} expects a positive number, got '${value}'`);
  return n;
}

export interface ServerCliValues {
  port?: string;
  host?: string;
  hub?: string[];
  persist?: string;
  'retention-events'?: string;
  'retention-minutes'?: string;
  'key-name'?: string;
  key?: string;
}

export function toServerOptions(values: ServerCliValues): LocalEventHubsOptions {
  const port = values.port === undefined ? 5672 : Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new UsageError(`--port expects a port number`);
  const maxEvents = parsePositiveNumber(values['retention-events'], '--retention-events');
  const minutes = parsePositiveNumber(values['retention-minutes'], '--retention-minutes');
  const options: LocalEventHubsOptions = {
    port,
    hubs: (values.hub?.length ? values.hub : ['demo:4']).map(parseHubSpec),
    retention: {
      ...(maxEvents !== undefined ? { maxEvents: Math.floor(maxEvents) } : {}),
      ...(minutes !== undefined ? { maxAgeMs: minutes * 60_000 } : {}),
    },
  };
  if (values.host !== undefined) options.host = values.host;
  if (values.persist !== undefined) options.persistDir = values.persist;
  if (values['key-name'] !== undefined) options.keyName = values['key-name'];
  if (values.key !== undefined) options.key = values.key;
  return options;
}

/** Runs a command's main: a usage error prints the message and the usage (exit 2), anything else its stack (exit 1). */
export function runCommand(main: () => Promise<void>, usage: string): void {
  main().catch((err: unknown) => {
    if (err instanceof UsageError) {
      process.stderr.write(`${err.message}\n\n${usage}`);
      process.exit(2);
    }
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  });
}
