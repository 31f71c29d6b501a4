import { describe, expect, it } from 'vitest';
import { hashPassword } from '../src/auth/password.ts';
import { type Harness, harnessPerTest } from './harness.ts';

let api: Harness;
harnessPerTest((started) => {
  api = started;
});

describe('sign-in and sessions', () => {
  it('signs in with the right password and sets an httpOnly session cookie', async () => {
    await api.prisma.user.create({
      data: {
        email: 'ada@example.com',
        name: 'Ada',
        role: 'editor',
        passwordHash: await hashPassword('s3cret pass'),
      },
    });
    const res = await api.call('auth.signIn', { email: 'Ada@Example.com', password: 's3cret pass' });
    expect(res.status).toBe(200);
    expect(res.setCookie).toMatch(/^hubcap_session=hs_[\w-]{43}; Path=\/; HttpOnly; SameSite=Lax; Expires=/);
    const cookie = res.setCookie!.split(';')[0]!;
    const me = await api.call('auth.me', undefined, { cookie });
    expect(me.body.result.data).toMatchObject({ email: 'ada@example.com', role: 'editor' });
    // Only the hash of the cookie is stored.
    const [session] = await api.prisma.session.findMany();
    expect(session!.id).not.toContain(cookie.split('=')[1]);
  });

  it('refuses a wrong password or unknown account with one message and no cookie', async () => {
    await api.signedIn('viewer');
    for (const input of [
      { email: 'viewer1@example.com', password: 'wrong' },
      { email: 'nobody@example.com', password: 'correct horse battery' },
    ]) {
      const res = await api.call('auth.signIn', input);
      expect(res.status).toBe(401);
      expect(res.body.error.message).toBe('wrong email or password');
      expect(res.setCookie).toBeNull();
    }
  });

  it('names each bad field of the sign-in form', async () => {
    const res = await api.call('auth.signIn', { email: 'not-an-email', password: '' });
    expect(res.status).toBe(400);
    expect(res.body.error.data.problems).toEqual([
      'email: enter an email address',
      'password: enter your password',
    ]);
  });

  it('signs out: the session stops working', async () => {
    const cookie = await api.signedIn('viewer');
    expect((await api.call('auth.signOut', undefined, { cookie })).status).toBe(200);
    expect((await api.call('auth.me', undefined, { cookie })).status).toBe(401);
  });

  it('refuses expired sessions and disabled users', async () => {
    const cookie = await api.signedIn('admin');
    await api.prisma.session.updateMany({ data: { expiresAt: new Date(Date.now() - 1000) } });
    expect((await api.call('auth.me', undefined, { cookie })).status).toBe(401);

    const other = await api.signedIn('admin');
    await api.prisma.user.updateMany({
      where: { email: 'admin2@example.com' },
      data: { disabledAt: new Date() },
    });
    expect((await api.call('auth.me', undefined, { cookie: other })).status).toBe(401);
  });

  it('requires a session for user procedures', async () => {
    const res = await api.call('topic.list');
    expect(res.status).toBe(401);
    expect(res.body.error.message).toBe('sign in first');
  });
});
