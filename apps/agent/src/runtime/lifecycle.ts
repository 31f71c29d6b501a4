/**
 * Process signals, installed before anything else loads (this module imports nothing): SIGTERM or
 * SIGINT during start-up — while the SDK modules load, the config is fetched, the destination is
 * verified — ends the process at once with code 0 and a log line (nothing is in flight before
 * ingestion starts); once the agent has registered its shutdown, a signal runs it (drain open
 * segments) and exits 0, or 1 if it fails. A second signal exits 1 at once.
 */

export interface LifecycleLog {
  info(fields: Record<string, unknown>, message: string): void;
  warn(fields: Record<string, unknown>, message: string): void;
  error(fields: Record<string, unknown>, message: string): void;
}

/** Until @hubcap/log (pino) is loaded: the same JSON line shape (level word, ISO time, service, version, msg). */
function earlyLog(base: Record<string, unknown>): LifecycleLog {
  const write = (level: string) => (fields: Record<string, unknown>, msg: string) => {
    const time = new Date().toISOString();
    process.stdout.write(`${JSON.stringify({ level, time, ...base, ...fields, msg })}\n`);
  };
  return { info: write('info'), warn: write('warn'), error: write('error') };
}

export class Lifecycle {
  readonly #stopping = new AbortController();
  #log: LifecycleLog;
  #shutdown: (() => Promise<void>) | null = null;

  constructor(base: Record<string, unknown>) {
    this.#log = earlyLog(base);
  }

  /** Installs the handlers; call first thing. */
  install(): this {
    process.on('SIGTERM', this.#onSignal);
    process.on('SIGINT', this.#onSignal);
    return this;
  }

  /** Aborted by the first signal. */
  get signal(): AbortSignal {
    return this.#stopping.signal;
  }

  get log(): LifecycleLog {
    return this.#log;
  }

  useLog(log: LifecycleLog): void {
    this.#log = log;
  }

  /** From now on a signal runs `shutdown` (ordered, idempotent) and then exits. */
  onShutdown(shutdown: () => Promise<void>): void {
    this.#shutdown = shutdown;
  }

  readonly #onSignal = (signal: NodeJS.Signals): void => {
    if (this.#stopping.signal.aborted) {
      this.#log.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    this.#stopping.abort();
    const shutdown = this.#shutdown;
    if (!shutdown) {
      this.#log.info({ signal }, 'stopping during start-up: nothing in flight yet');
      process.exit(0);
    }
    this.#log.info({ signal }, 'stopping: draining open segments');
    shutdown().then(
      () => process.exit(0),
      (error: Error) => {
        this.#log.error({ error: error.message }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
}
