import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AccessToken, TokenCredential } from '@azure/identity';

/**
 * A test double of Azure Schema Registry: Azure's registry is a cloud service with no emulator that
 * can run on this machine, so this small HTTPS server speaks the part of its REST API (2023-07-01)
 * that the official `SchemaRegistryClient` uses — register a schema, look up its id, get a schema by
 * id — so that the real client and the real `AvroSerializer` run unmodified against it. It uses a
 * self-signed certificate (the SDK refuses bearer tokens over plain http) and checks the bearer token.
 */
export interface RegistryDouble {
  /** `127.0.0.1:<port>`: what a TopicConfig's `fullyQualifiedNamespace` would hold. */
  host: string;
  /** PEM of the self-signed certificate, to trust it (`tlsOptions.ca`, or NODE_EXTRA_CA_CERTS). */
  ca: string;
  caPath: string;
  /** GET-by-id requests served (cache checks). */
  fetches: number;
  /** While set, every request fails this way (an outage). */
  outage: 'unavailable' | 'reset' | null;
  close(): Promise<void>;
}

export const TOKEN = 'test-token-not-a-secret';

/** A static bearer token (the double accepts only this one). */
export const staticCredential: TokenCredential = {
  getToken: async (): Promise<AccessToken> => ({ token: TOKEN, expiresOnTimestamp: Date.now() + 3_600_000 }),
};

interface Stored {
  id: string;
  group: string;
  name: string;
  version: number;
  definition: string;
  contentType: string;
}

export async function startRegistryDouble(): Promise<RegistryDouble> {
  const dir = mkdtempSync(join(tmpdir(), 'hubcap-registry-'));
  const keyPath = join(dir, 'key.pem');
  const caPath = join(dir, 'cert.pem');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1,DNS:localhost',
      '-days',
      '1',
      '-keyout',
      keyPath,
      '-out',
      caPath,
    ],
    { stdio: 'ignore' },
  );
  const ca = readFileSync(caPath, 'utf8');
  const schemas = new Map<string, Stored>();

  const headers = (s: Stored) => ({
    'Schema-Id': s.id,
    'Schema-Id-Location': `/$schemagroups/$schemas/${s.id}?api-version=2023-07-01`,
    'Schema-Group-Name': s.group,
    'Schema-Name': s.name,
    'Schema-Version': String(s.version),
    Location: `/$schemagroups/${s.group}/schemas/${s.name}/versions/${s.version}?api-version=2023-07-01`,
  });
  const fail = (res: ServerResponse, status: number, code: string, message: string) => {
    res.writeHead(status, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ error: { code, message } }));
  };

  const double: RegistryDouble = {
    host: '',
    ca,
    caPath,
    fetches: 0,
    outage: null,
    close: async () => {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      rmSync(dir, { recursive: true, force: true });
    },
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    if (double.outage === 'reset') {
      req.socket.destroy();
      return;
    }
    if (double.outage === 'unavailable') return fail(res, 503, 'ServiceUnavailable', 'registry is down');
    if (req.headers.authorization !== `Bearer ${TOKEN}`) return fail(res, 401, 'Unauthorized', 'bad token');
    const url = new URL(req.url ?? '/', 'https://registry');
    if (url.searchParams.get('api-version') === null)
      return fail(res, 400, 'BadRequest', 'api-version missing');
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    const path = decodeURIComponent(url.pathname);
    const byId = req.method === 'GET' ? /^\/\$schemaGroups\/\$schemas\/([^/]+)$/i.exec(path) : null;
    const register =
      req.method === 'PUT' ? /^\/\$schemaGroups\/([^/]+)\/schemas\/([^/:]+)$/i.exec(path) : null;
    const getId =
      req.method === 'POST' ? /^\/\$schemaGroups\/([^/]+)\/schemas\/([^/:]+):get-id$/i.exec(path) : null;
    if (byId) {
      const m = byId;
      double.fetches++;
      const s = schemas.get(m[1]!);
      if (!s) return fail(res, 404, 'ItemNotFound', `Schema id ${m[1]} does not exist`);
      res.writeHead(200, { 'Content-Type': s.contentType, ...headers(s) });
      res.end(s.definition);
      return;
    }
    if (register) {
      const [group, name] = [register[1]!, register[2]!];
      const same = [...schemas.values()].find(
        (s) => s.group === group && s.name === name && s.definition === body,
      );
      if (same) {
        res.writeHead(204, headers(same));
        res.end();
        return;
      }
      const versions = [...schemas.values()].filter((s) => s.group === group && s.name === name).length;
      const s: Stored = {
        id: randomUUID().replaceAll('-', ''),
        group,
        name,
        version: versions + 1,
        definition: body,
        contentType: req.headers['content-type'] ?? 'application/json; serialization=Avro',
      };
      schemas.set(s.id, s);
      res.writeHead(204, headers(s));
      res.end();
      return;
    }
    if (getId) {
      const s = [...schemas.values()].find(
        (x) => x.group === getId[1] && x.name === getId[2] && x.definition === body,
      );
      if (!s) return fail(res, 404, 'ItemNotFound', 'no matching schema');
      res.writeHead(204, headers(s));
      res.end();
      return;
    }
    fail(res, 404, 'NotFound', `no route ${req.method} ${path}`);
  };

  const server: Server = createServer({ key: readFileSync(keyPath), cert: ca }, (req, res) => {
    handle(req, res).catch((error: Error) => fail(res, 500, 'InternalError', error.message));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  double.host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  return double;
}
