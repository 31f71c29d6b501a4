import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Browser, chromium, type Page } from 'playwright-core';

const webDir = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export interface WebServer {
  url: string;
  output: string[];
  close(): Promise<void>;
}

/**
 * `next start` of the built app on a free port, against `databaseUrl`. Needs `next build` first (turbo
 * runs it). `env` may depend on the server's own URL (e.g. where local agents report).
 */
export async function startWeb(
  databaseUrl: string,
  env: Record<string, string> | ((url: string) => Record<string, string>) = {},
): Promise<WebServer> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const output: string[] = [];
  const child: ChildProcess = spawn(
    process.execPath,
    [
      require.resolve('next/dist/bin/next', { paths: [webDir] }),
      'start',
      '-H',
      '127.0.0.1',
      '-p',
      String(port),
    ],
    {
      cwd: webDir,
      env: {
        ...process.env,
        DATABASE_URL: databaseUrl,
        HUBCAP_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
        HUBCAP_DEPLOYER: 'none',
        // The local Event Hubs server and Azurite of the tests listen on this machine.
        HUBCAP_ALLOWED_ENDPOINTS: '127.0.0.1',
        NODE_ENV: 'production',
        NEXT_TELEMETRY_DISABLED: '1',
        ...(typeof env === 'function' ? env(url) : env),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  child.stdout?.on('data', (chunk: Buffer) => output.push(chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => output.push(chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  const deadline = Date.now() + 60_000;
  let gone = false;
  void exited.then(() => {
    gone = true;
  });
  while (true) {
    if (gone) throw new Error(`next start exited:\n${output.join('')}`);
    if (Date.now() > deadline) throw new Error(`next start did not answer within 60 s:\n${output.join('')}`);
    try {
      if ((await fetch(`${url}/api/healthz`)).ok) break;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    url,
    output,
    async close() {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(timer);
      }
    },
  };
}

/** Debian's Chromium (or CHROMIUM_PATH), headless; every launch gets a fresh, temporary profile. */
/** Signs `user` in on the sign-in page and waits for the fleet page. */
export async function signIn(page: Page, user: { email: string; password: string }): Promise<void> {
  await page.goto('/sign-in');
  await page.fill('input[name=email]', user.email);
  await page.fill('input[name=password]', user.password);
  await page.click('button[type=submit]');
  await page.waitForURL((url) => url.pathname === '/');
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}
