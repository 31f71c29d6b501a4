import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from './index.ts';

function capture() {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(line));
      done();
    },
  });
  return { lines, log: createLogger({ service: 'hubcap-test', version: '1.2.3', destination }) };
}

describe('createLogger', () => {
  it('writes one JSON object per line: level word, ISO time, service, version, child fields', () => {
    const { lines, log } = capture();
    log.child({ requestId: 'r-1' }).warn({ path: 'topic.get' }, 'slow');
    expect(lines).toEqual([
      {
        level: 'warn',
        time: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
        service: 'hubcap-test',
        version: '1.2.3',
        requestId: 'r-1',
        path: 'topic.get',
        msg: 'slow',
      },
    ]);
  });

  it('censors secret-looking keys at any depth and scrubs secrets quoted in text and errors', () => {
    const { lines, log } = capture();
    const connectionString = 'Endpoint=sb://x/;SharedAccessKeyName=k;SharedAccessKey=SECRET1';
    log.info(
      {
        config: {
          source: { auth: { connectionString } },
          destination: { account: { accountKey: 'SECRET2' } },
        },
        headers: { Authorization: 'Bearer SECRET3', cookie: 'hubcap_session=SECRET4' },
        password: 'SECRET5',
        clientSecret: 'SECRET6',
        note: `failed with ${connectionString}`,
        list: [{ token: 'SECRET7' }],
        err: new Error(`cannot reach https://a.blob.core.windows.net/c?sv=1&sig=SECRET8`),
        partitionKey: 'kept',
      },
      'hostile',
    );
    const text = JSON.stringify(lines);
    for (let i = 1; i <= 8; i++) expect(text).not.toContain(`SECRET${i}`);
    expect(lines[0]).toMatchObject({
      config: { source: { auth: { connectionString: '[redacted]' } } },
      headers: { Authorization: '[redacted]' },
      partitionKey: 'kept',
      err: { type: 'Error', message: expect.stringContaining('sig=[redacted]') },
    });
  });

  it('cuts what is nested deeper than any line the code writes instead of walking it', () => {
    const { lines, log } = capture();
    let deep: Record<string, unknown> = { token: 'SECRET' };
    for (let i = 0; i < 20_000; i++) deep = { next: deep };
    log.info({ deep }, 'deep');
    expect(JSON.stringify(lines)).not.toContain('SECRET');
    expect(JSON.stringify(lines)).toContain('[too deep]');
  });
});
