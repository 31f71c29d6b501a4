// One log for the control plane: a child per request carrying its id; unexpected errors are logged
// with that id, which the person who met the error sees in its message.
import { Writable } from 'node:stream';
import { createLogger } from '@hubcap/log';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, startHarness } from './harness.ts';

const lines: Record<string, unknown>[] = [];
let api: Harness;
beforeAll(async () => {
  const destination = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(line));
      done();
    },
  });
  api = await startHarness({ log: createLogger({ service: 'hubcap-web', version: '9.9.9', destination }) });
});
afterAll(() => api.close());

describe('request logging', () => {
  it('logs an unexpected error under the request id the user is shown, details in the log only', async () => {
    const admin = await api.signedIn('admin');
    // A database that lost a table: the query fails with SQL text nobody outside should read.
    await api.prisma.$executeRawUnsafe('DROP TABLE "AuditEvent" CASCADE');
    const { status, body } = await api.call('audit.list', {}, { cookie: admin });

    expect(status).toBe(500);
    const { requestId } = body.error.data;
    expect(requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(body.error.message).toBe(`internal error (request ${requestId}); the server log has the details`);
    expect(JSON.stringify(body)).not.toContain('AuditEvent');

    const logged = lines.filter((l) => l.requestId === requestId);
    expect(logged).toEqual([
      expect.objectContaining({
        level: 'error',
        service: 'hubcap-web',
        version: '9.9.9',
        path: 'audit.list',
        msg: 'unexpected error',
        err: expect.objectContaining({ message: expect.stringContaining('AuditEvent') }),
      }),
    ]);
  });

  it('gives each request its own id and logs nothing for a refusal the caller can act on', async () => {
    const before = lines.length;
    const first = await api.call('audit.list', {});
    const second = await api.call('audit.list', {});
    expect(first.status).toBe(401);
    expect(first.body.error.data.requestId).not.toBe(second.body.error.data.requestId);
    expect(lines.length).toBe(before);
  });
});
