// Stands in for the agent in the runner's own tests: FAKE_MODE=serve answers /readyz like the agent
// and logs its port the same way; FAKE_MODE=crash fails at start like a misconfigured agent;
// FAKE_MODE=done finishes at once like a one-off run (a replay) with nothing left to do.
import { createServer } from 'node:http';

const log = (fields) =>
  process.stdout.write(`${JSON.stringify({ level: 30, time: Date.now(), ...fields })}\n`);

if (process.env.FAKE_MODE === 'crash') {
  process.stderr.write('hubcap-agent: config is invalid: source.eventHubName is required\n');
  process.exit(2);
}
if (process.env.FAKE_MODE === 'done') {
  log({ msg: 'replay finished', replay: process.env.HUBCAP_REPLAY_ID });
  process.exit(0);
}
const server = createServer((req, res) => {
  res.writeHead(req.url === '/readyz' || req.url === '/healthz' ? 200 : 404).end('ok');
});
server.listen(0, '127.0.0.1', () => {
  log({ port: server.address().port, msg: 'http server listening (/healthz, /readyz, /metrics)' });
  log({
    msg: 'ingesting',
    agentId: process.env.HUBCAP_AGENT_ID,
    hasToken: Boolean(process.env.HUBCAP_AGENT_TOKEN),
  });
});
process.on('SIGTERM', () => {
  log({ msg: 'stopping: draining open segments' });
  server.close(() => process.exit(0));
});
