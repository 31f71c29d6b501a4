#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { runCommand, toServerOptions } from './cli-options.ts';
import { startSampleTraffic } from './sample-traffic.ts';
import { startLocalEventHubs } from './server.ts';

const USAGE = `Usage: hubcap-local-eventhubs [options]

A local Event Hubs-compatible AMQP server for development and tests.

  --port <n>               TCP port (default 5672; 0 picks a free one)
  --host <addr>            address to bind (default 127.0.0.1)
  --hub <name:p[:g1,g2]>   a hub with p partitions and extra consumer groups; repeatable (default demo:4)
  --persist <dir>          keep events in <dir> so a restart keeps them
  --retention-events <n>   keep at most n events per partition
  --retention-minutes <m>  drop events older than m minutes
  --key-name <name>        shared access key name (default RootManageSharedAccessKey)
  --key <key>              shared access key (default: the published development key)
  --sample-rate <n>        also send n sample API-gateway events/s to the first hub
  --help                   show this help
`;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: 'string' },
      host: { type: 'string' },
      hub: { type: 'string', multiple: true },
      persist: { type: 'string' },
      'retention-events': { type: 'string' },
      'retention-minutes': { type: 'string' },
      'key-name': { type: 'string' },
      key: { type: 'string' },
      'sample-rate': { type: 'string' },
      help: { type: 'boolean' },
    },
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return;
  }
  const options = toServerOptions(values);
  const server = await startLocalEventHubs({ ...options, log: (line) => process.stderr.write(`${line}\n`) });
  const hubs = options.hubs ?? [];
  process.stdout.write(`Local Event Hubs listening on ${server.host}:${server.port}\n`);
  process.stdout.write(`${server.connectionString()}\n`);
  for (const hub of hubs) {
    const groups = ['$Default', ...(hub.consumerGroups ?? [])].join(', ');
    process.stdout.write(`  hub ${hub.name}: ${hub.partitionCount} partitions, consumer groups ${groups}\n`);
  }

  let traffic: ReturnType<typeof startSampleTraffic> | undefined;
  const rate = values['sample-rate'] === undefined ? undefined : Number(values['sample-rate']);
  const firstHub = hubs[0];
  if (rate !== undefined && rate > 0 && firstHub) {
    traffic = startSampleTraffic({
      connectionString: server.connectionString(firstHub.name),
      eventsPerSecond: rate,
    });
    traffic.done.catch((err: unknown) => process.stderr.write(`sample traffic stopped: ${String(err)}\n`));
  }

  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    await traffic?.stop();
    await server.close();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop());
  process.on('SIGTERM', () => void stop());
}

runCommand(main, USAGE);
