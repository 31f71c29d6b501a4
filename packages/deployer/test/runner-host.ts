// A process that runs one agent through a LocalRunner and prints the agent's pid: the test kills
// this host with SIGKILL and checks the agent does not outlive it.
import { LocalRunner } from '../src/local/runner.ts';
import { ordersConfig } from './fixtures.ts';

const runner = new LocalRunner({ agentEntry: process.argv[2]!, env: { FAKE_MODE: 'serve' } });
const topic = { id: 'orphan-test', name: 'orders' };
await runner.apply({
  topic,
  config: ordersConfig({ scaling: { replicas: 1 } }),
  configVersion: 1,
  agentToken: 't',
});
process.stdout.write(`${JSON.stringify({ pids: runner.pids(topic) })}\n`);
setInterval(() => {}, 1000);
