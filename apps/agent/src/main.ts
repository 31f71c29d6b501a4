#!/usr/bin/env node
import { scrubSecrets } from '@hubcap/log/scrub';
import pkg from '../package.json' with { type: 'json' };
import { tuneHeap } from './runtime/heap.ts';
import { Lifecycle } from './runtime/lifecycle.ts';

const SERVICE = 'hubcap-agent';
tuneHeap();

// Signal handlers first, before the SDK modules load: a SIGTERM during start-up exits cleanly (0).
const lifecycle = new Lifecycle({ service: SERVICE, version: pkg.version }).install();
lifecycle.log.info({ pid: process.pid }, 'loading');

const fatal = (what: string, error: unknown): never => {
  process.stderr.write(`${SERVICE}: ${what}: ${scrubSecrets(String((error as Error)?.stack ?? error))}\n`);
  process.exit(1);
};
process.on('unhandledRejection', (error) => fatal('unhandled rejection', error));

try {
  const { runAgent } = await import('./agent.ts');
  await runAgent(lifecycle);
} catch (error) {
  fatal('fatal', error);
}
