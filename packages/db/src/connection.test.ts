import { describe, expect, it } from 'vitest';
import { describeConnectionError, parseDatabaseUrl, redactUrl, withDatabase } from './connection.ts';

describe('parseDatabaseUrl', () => {
  it('accepts postgres and postgresql URLs', () => {
    expect(parseDatabaseUrl('postgresql://u@h:5432/db').hostname).toBe('h');
    expect(parseDatabaseUrl('postgres://u@h/db').pathname).toBe('/db');
  });

  it('explains what is wrong in one line, without the password', () => {
    expect(() => parseDatabaseUrl('not a url')).toThrow('DATABASE_URL is not a valid URL');
    expect(() => parseDatabaseUrl('mysql://u@h/db')).toThrow('must start with postgresql://');
    expect(() => parseDatabaseUrl('postgresql://u:s3cret@h/')).toThrow('has no database name');
    expect(() => parseDatabaseUrl('postgresql://u:s3cret@h/')).not.toThrow('s3cret');
  });
});

describe('URL helpers', () => {
  it('masks the password', () => {
    expect(redactUrl('postgresql://u:s3cret@h:1/db')).toBe('postgresql://u:***@h:1/db');
    expect(redactUrl('postgresql://u@h/db')).toBe('postgresql://u@h/db');
  });

  it('swaps the database and keeps the rest', () => {
    expect(withDatabase('postgresql://u:p@h:1/db?sslmode=require', 't_1')).toBe(
      'postgresql://u:p@h:1/t_1?sslmode=require',
    );
  });

  it('names the server, not the credentials, when a connection fails', () => {
    const error = describeConnectionError({ code: 'ECONNREFUSED' }, 'postgresql://u:s3cret@db.local:6543/x');
    expect(error.message).toBe(
      'Cannot connect to PostgreSQL at db.local:6543: connection refused. Is the server running?',
    );
  });
});
