#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { parsePositiveNumber, runCommand, UsageError } from './cli-options.ts';
import { startSampleTraffic } from './sample-traffic.ts';

const USAGE = `Usage: node src/traffic-cli.ts --connection-string <cs> [--hub <name>] [options]

Sends realistic API-gateway events with the official producer.

  --connection-string <cs>  Event Hubs connection string (or env EVENTHUBS_CONNECTION_STRING)
  --hub <name>              hub, when the connection string has no EntityPath
  --rate <n>                events per second (default 100 when --count is not given)
  --count <n>               stop after n events (as fast as possible unless --rate is given)
  --new-field-share <0..1>  share of events carrying the late 'geo' field (default 0.3)
  --new-field-after <n>     index from which 'geo' may appear (default 0)
  --non-json-share <0..1>   share of plain-text bodies (default 0.01)
  --seed <n>                generator seed (default 1)
`;

function share(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!(n >= 0 && n <= 1)) throw new UsageError(`${flag} expects a number between 0 and 1`);
  return n;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      'connection-string': { type: 'string' },
      hub: { type: 'string' },
      rate: { type: 'string' },
      count: { type: 'string' },
      'new-field-share': { type: 'string' },
      'new-field-after': { type: 'string' },
      'non-json-share': { type: 'string' },
      seed: { type: 'string' },
      help: { type: 'boolean' },
    },
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return;
  }
  const connectionString = values['connection-string'] ?? process.env.EVENTHUBS_CONNECTION_STRING;
  if (!connectionString) throw new UsageError('--connection-string is required');
  const eventsPerSecond = parsePositiveNumber(values.rate, '--rate');
  const count = parsePositiveNumber(values.count, '--count');
  const newFieldShare = share(values['new-field-share'], '--new-field-share');
  const nonJsonShare = share(values['non-json-share'], '--non-json-share');
  const newFieldAfter =
    values['new-field-after'] === undefined ? undefined : Number(values['new-field-after']);
  const started = Date.now();
  const traffic = startSampleTraffic({
    connectionString,
    ...(values.hub !== undefined ? { hub: values.hub } : {}),
    ...(eventsPerSecond !== undefined ? { eventsPerSecond } : {}),
    ...(count !== undefined ? { count: Math.floor(count) } : {}),
    ...(newFieldShare !== undefined ? { newFieldShare } : {}),
    ...(nonJsonShare !== undefined ? { nonJsonShare } : {}),
    ...(newFieldAfter !== undefined ? { newFieldAfter } : {}),
    seed: values.seed === undefined ? 1 : Number(values.seed),
  });
  process.on('SIGINT', () => void traffic.stop());
  process.on('SIGTERM', () => void traffic.stop());
  const { sent } = await traffic.done;
  const seconds = (Date.now() - started) / 1000;
  process.stdout.write(`sent ${sent} events in ${seconds.toFixed(1)} s\n`);
}

runCommand(main, USAGE);
