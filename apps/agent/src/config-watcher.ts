import { ConfigError, type LoadedConfig, validateConfig } from './config.ts';

export interface ConfigWatcherOptions {
  /** The control plane's `agent.config`. */
  fetch(): Promise<{ version: number; config: unknown }>;
  /** The running config's version and topic (a config for another topic is refused). */
  running: { version: number; topic: string };
  subject: string;
  onRejected(version: number, error: ConfigError): void;
  onFetchFailed(error: Error): void;
}

/**
 * Notices a newer config version for an agent that runs from the control plane's config. Every report
 * response carries the topic's current version (`offer`); a newer one is fetched and validated (the
 * shared zod schema plus what this agent supports). A valid one resolves `next()`; an invalid one is
 * rejected once per version (the running config keeps going); a failed fetch is retried on the next
 * offer.
 */
export class ConfigWatcher {
  readonly #o: ConfigWatcherOptions;
  #running: { version: number; topic: string };
  /** The highest version running or handed out by next(): nothing at or below it is fetched again. */
  #seen: number;
  #rejected: number | null = null;
  #checking = false;
  #ready: LoadedConfig | null = null;
  #waiter: ((config: LoadedConfig) => void) | null = null;

  constructor(options: ConfigWatcherOptions) {
    this.#o = options;
    this.#running = options.running;
    this.#seen = options.running.version;
  }

  get runningVersion(): number {
    return this.#running.version;
  }

  offer(version: number): void {
    if (version <= this.#seen || version === this.#rejected || this.#checking) return;
    this.#checking = true;
    this.#check()
      .catch((error: Error) => this.#o.onFetchFailed(error))
      .finally(() => {
        this.#checking = false;
      });
  }

  async #check(): Promise<void> {
    let response: { version: number; config: unknown };
    try {
      response = await this.#o.fetch();
    } catch (error) {
      this.#o.onFetchFailed(error as Error);
      return;
    }
    if (response.version <= this.#seen || response.version === this.#rejected) return;
    let config: LoadedConfig['config'];
    try {
      config = validateConfig(response.config, `${this.#o.subject} version ${response.version}`);
      if (config.topic !== this.#running.topic)
        throw new ConfigError(`${this.#o.subject} version ${response.version} is invalid`, [
          `topic: is "${config.topic}", this agent runs "${this.#running.topic}"`,
        ]);
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      this.#rejected = response.version;
      this.#o.onRejected(response.version, error);
      return;
    }
    const loaded = { config, version: response.version, source: this.#o.subject };
    this.#seen = response.version;
    if (this.#waiter) {
      this.#waiter(loaded);
      this.#waiter = null;
    } else this.#ready = loaded;
  }

  /** Resolves with the next valid, newer config (each version once; a newer one replaces one not taken). */
  next(): Promise<LoadedConfig> {
    const ready = this.#ready;
    if (ready) {
      this.#ready = null;
      return Promise.resolve(ready);
    }
    return new Promise((resolve) => {
      this.#waiter = resolve;
    });
  }

  /** The config now running (after a switch). */
  applied(loaded: LoadedConfig & { version: number }): void {
    this.#running = { version: loaded.version, topic: loaded.config.topic };
  }
}
