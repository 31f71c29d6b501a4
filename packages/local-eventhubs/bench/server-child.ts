// Runs the server in its own process so the benchmark can measure its CPU time separately.
import { startLocalEventHubs } from '../src/index.ts';

const server = await startLocalEventHubs({ hubs: [{ name: 'bench', partitionCount: 4 }] });
process.on('message', (msg: { type: string }) => {
  if (msg.type === 'cpu') {
    const { user, system } = process.cpuUsage();
    process.send?.({ type: 'cpu', seconds: (user + system) / 1e6, rss: process.memoryUsage().rss });
  } else if (msg.type === 'stop') {
    void server.close().then(() => process.exit(0));
  }
});
process.send?.({ type: 'ready', connectionString: server.connectionString('bench') });
