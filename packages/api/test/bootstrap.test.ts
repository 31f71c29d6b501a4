import { describe, expect, it } from 'vitest';
import { ensureAdmin } from '../src/bootstrap.ts';
import { type Harness, harnessPerTest } from './harness.ts';

let api: Harness;
harnessPerTest((started) => {
  api = started;
});

describe('first admin', () => {
  it('is created on an empty database only, and can sign in', async () => {
    expect(await ensureAdmin(api.prisma, 'Ops@Example.com', 'a long first password')).toEqual({
      email: 'Ops@Example.com',
      password: 'a long first password',
    });
    expect(await ensureAdmin(api.prisma, 'other@example.com', 'another long password')).toBeNull();
    const users = await api.prisma.user.findMany();
    expect(users.map((u) => [u.email, u.role])).toEqual([['ops@example.com', 'admin']]);
    const res = await api.call('auth.signIn', {
      email: 'ops@example.com',
      password: 'a long first password',
    });
    expect(res.status).toBe(200);
  });
});
