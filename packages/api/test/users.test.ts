import { describe, expect, it } from 'vitest';
import { type Harness, harnessPerTest } from './harness.ts';

let api: Harness;
let admin: string;
harnessPerTest(async (started) => {
  api = started;
  admin = await api.signedIn('admin');
});

describe('users (admin)', () => {
  it('creates an account with a one-time password that signs in, and audits it', async () => {
    const res = await api.call(
      'user.create',
      { email: 'Grace@Example.com', name: 'Grace', role: 'editor' },
      { cookie: admin },
    );
    expect(res.status).toBe(200);
    const { user, password } = res.body.result.data;
    expect(user).toMatchObject({ email: 'grace@example.com', role: 'editor', disabled: false });
    expect(user).not.toHaveProperty('passwordHash');
    const signIn = await api.call('auth.signIn', { email: 'grace@example.com', password });
    expect(signIn.status).toBe(200);
    const list = await api.call('user.list', undefined, { cookie: admin });
    expect(JSON.stringify(list.body)).not.toContain('scrypt$');
    const events = await api.prisma.auditEvent.findMany({ where: { action: 'user.create' } });
    expect(events).toHaveLength(1);
    expect(JSON.stringify(events[0]!.details)).not.toContain(password);
  });

  it('names bad fields and refuses duplicates', async () => {
    const bad = await api.call('user.create', { email: 'nope', name: '', role: 'owner' }, { cookie: admin });
    expect(bad.status).toBe(400);
    expect(bad.body.error.data.fieldErrors).toEqual({
      email: 'enter an email address',
      name: 'name is required',
      role: 'must be "viewer", "editor" or "admin"',
    });
    await api.call('user.create', { email: 'a@example.com', name: 'A', role: 'viewer' }, { cookie: admin });
    const dup = await api.call(
      'user.create',
      { email: 'A@example.com', name: 'A', role: 'viewer' },
      { cookie: admin },
    );
    expect(dup.status).toBe(409);
  });

  it('changes roles, disables accounts (ending their sessions) and keeps the last admin', async () => {
    const viewer = await api.signedIn('viewer');
    const viewerId = (await api.call('auth.me', undefined, { cookie: viewer })).body.result.data.id;
    const promoted = await api.call('user.update', { userId: viewerId, role: 'editor' }, { cookie: admin });
    expect(promoted.body.result.data.role).toBe('editor');
    await api.call('user.update', { userId: viewerId, disabled: true }, { cookie: admin });
    expect((await api.call('auth.me', undefined, { cookie: viewer })).status).toBe(401);

    const adminId = (await api.call('auth.me', undefined, { cookie: admin })).body.result.data.id;
    const demote = await api.call('user.update', { userId: adminId, role: 'viewer' }, { cookie: admin });
    expect(demote.status).toBe(409);
    expect(demote.body.error.message).toMatch(/last enabled admin/);
  });
});
