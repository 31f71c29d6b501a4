import pg from 'pg';

// Fail fast on a wrong host instead of hanging on the OS's TCP timeout.
const CONNECT_TIMEOUT_MS = 5_000;

/** Parses a PostgreSQL URL; a typo in DATABASE_URL becomes one readable line, never a stack trace. */
export function parseDatabaseUrl(databaseUrl: string): URL {
  let url: URL;
  try {
    url = new URL(databaseUrl);
  } catch {
    throw new Error(
      'DATABASE_URL is not a valid URL (expected postgresql://user:password@host:5432/database)',
    );
  }
  if (url.protocol !== 'postgresql:' && url.protocol !== 'postgres:') {
    throw new Error(`DATABASE_URL must start with postgresql:// (got ${url.protocol}//)`);
  }
  if (databaseName(url) === '') {
    throw new Error(`DATABASE_URL has no database name (${redactUrl(databaseUrl)})`);
  }
  return url;
}

export function databaseName(url: URL): string {
  return decodeURIComponent(url.pathname.replace(/^\//, ''));
}

/** The same server and credentials, another database. */
export function withDatabase(databaseUrl: string, name: string): string {
  const url = new URL(databaseUrl);
  url.pathname = `/${encodeURIComponent(name)}`;
  return url.toString();
}

/** The URL with its password masked, safe for logs and error messages. */
export function redactUrl(databaseUrl: string): string {
  try {
    const url = new URL(databaseUrl);
    if (url.password !== '') url.password = '***';
    return url.toString();
  } catch {
    return '<invalid url>';
  }
}

export function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** Turns driver errors caused by configuration into one line that names the server, not the password. */
export function describeConnectionError(error: unknown, databaseUrl: string): Error {
  const url = new URL(databaseUrl);
  const server = `${url.hostname}:${url.port || '5432'}`;
  const { code, message } = error as { code?: string; message?: string };
  switch (code) {
    case 'ECONNREFUSED':
      return new Error(
        `Cannot connect to PostgreSQL at ${server}: connection refused. Is the server running?`,
      );
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new Error(`Cannot connect to PostgreSQL: unknown host "${url.hostname}"`);
    case 'ETIMEDOUT':
      return new Error(`Cannot connect to PostgreSQL at ${server}: timed out`);
    case '28P01':
    case '28000':
      return new Error(
        `PostgreSQL at ${server} rejected user "${decodeURIComponent(url.username)}": ${message}`,
      );
    case '3D000':
      return new Error(`Database "${databaseName(url)}" does not exist on ${server}`);
    case '42501':
      return new Error(`PostgreSQL user "${decodeURIComponent(url.username)}" lacks a privilege: ${message}`);
    default:
      if (message?.includes('timeout'))
        return new Error(`Cannot connect to PostgreSQL at ${server}: timed out`);
      return error instanceof Error ? error : new Error(String(error));
  }
}

/** Runs `fn` with a short-lived client, mapping connection failures to readable errors. */
export async function withClient<T>(databaseUrl: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({
    connectionString: databaseUrl,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
  });
  // A server shutting down emits 'error' on idle clients; without a listener that crashes the process.
  client.on('error', () => {});
  try {
    await client.connect();
  } catch (error) {
    await client.end().catch(() => {});
    throw describeConnectionError(error, databaseUrl);
  }
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => {});
  }
}

/**
 * Creates the database named in the URL when it is missing, like `prisma migrate deploy` does.
 * Connects to the `postgres` maintenance database for that.
 */
export async function ensureDatabase(databaseUrl: string): Promise<void> {
  const name = databaseName(parseDatabaseUrl(databaseUrl));
  try {
    await withClient(databaseUrl, async () => {});
    return;
  } catch (error) {
    if (!(error instanceof Error) || !error.message.includes('does not exist')) throw error;
  }
  await withClient(withDatabase(databaseUrl, 'postgres'), async (client) => {
    try {
      await client.query(`CREATE DATABASE ${quoteIdentifier(name)}`);
    } catch (error) {
      // Another process created it first (42P04, or 23505 when both raced inside the catalog).
      const code = (error as { code?: string }).code;
      if (code !== '42P04' && code !== '23505') throw describeConnectionError(error, databaseUrl);
    }
  });
}
