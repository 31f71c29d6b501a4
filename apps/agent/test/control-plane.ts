import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import {
  type ApiServices,
  createTopic,
  handleApiRequest,
  issueAgentToken,
  SecretBox,
  updateTopic,
} from '@hubcap/api';
import { createTestDatabase } from '@hubcap/db/testing';
import { AgentReport, type TopicConfigInput } from '@hubcap/shared';

const SYSTEM = { actor: 'system' };

/**
 * The real control plane (its router over a fresh database) serving one topic to agents over HTTP.
 * `network` plays what lies between them: an outage, a slow answer; `reports` are the reports the
 * control plane accepted, as they crossed the wire.
 */
export async function startControlPlane(options: { config: TopicConfigInput }) {
  const db = await createTestDatabase();
  const services: ApiServices = {
    prisma: db.prisma,
    secrets: new SecretBox(randomBytes(32)),
    // What the local platform allows: its own emulators, local folders under the temp dir.
    policy: { allowedEndpoints: ['127.0.0.1', 'localhost'], localFolderRoot: tmpdir() },
  };
  const topic = await createTopic(services.prisma, services.secrets, options.config, SYSTEM, services.policy);
  // The deployer's kind of token: it may read the config with its secrets.
  const { token } = await issueAgentToken(services.prisma, topic.id, 'agent-0', { configAccess: true });

  const reports: AgentReport[] = [];
  const network = { down: false, delayMs: 0, configDelayMs: 0, configRequests: 0 };
  const server = createServer(async (req, res) => {
    const path = req.url?.split('?')[0] ?? '';
    if (network.down) {
      res.writeHead(503, { 'content-type': 'text/plain' }).end('down for maintenance');
      return;
    }
    if (path.endsWith('/agent.config')) {
      network.configRequests++;
      await sleep(network.configDelayMs);
    }
    await sleep(network.delayMs);
    const body = req.method === 'POST' ? await readBody(req) : undefined;
    const response = await handleApiRequest(
      services,
      new Request(`http://${req.headers.host}${req.url}`, {
        method: req.method,
        headers: Object.entries(req.headers).flatMap(([k, v]) => (typeof v === 'string' ? [[k, v]] : [])),
        body,
      }),
    );
    if (path.endsWith('/agent.report') && response.ok && body)
      reports.push(AgentReport.parse(JSON.parse(body)));
    res.writeHead(response.status, Object.fromEntries(response.headers)).end(await response.text());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    token,
    reports,
    network,
    prisma: services.prisma,
    /** Saves a new config version, as an editor would; returns its version number. */
    async publish(config: TopicConfigInput): Promise<number> {
      const updated = await updateTopic(
        services.prisma,
        services.secrets,
        topic.id,
        config,
        SYSTEM,
        services.policy,
      );
      return updated.version;
    },
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await db.drop();
    },
  };
}

const sleep = (ms: number) => (ms > 0 ? new Promise((r) => setTimeout(r, ms)) : Promise.resolve());

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
