import { restartReason, type TopicConfig } from '@hubcap/shared';
import { ConfigError, type LoadedConfig, validateConfig } from './config.ts';

export interface ConfigWatcherOptions {
  /** The control plane's `agent.config`. */
  fetch(): Promise<{ version: number; config: unknown }>;
  /** The running config and its version (a config for another topic is refused). */
  running: { version: number; config: TopicConfig };
  subject: string;
  onRejected(version: number, error: ConfigError): void;
  /** A valid version this process cannot take in place: it runs once the control plane restarts it. */
  onDeferred(version: number, reason: string): void;
  onFetchFailed(error: Error): void;
}

/**
 * Notices a newer config version for an agent that runs from the control plane's config. Every report
 * response carries the topic's current version (`offer`); a newer one is fetched and validated (the
 * shared zod schema, which knows every format this agent writes). A valid one the process can take in place
 * resolves `next()`; one that needs a new process (new file layout, limits or identity: see
 * `restartReason`) is deferred, and an invalid one rejected, once per version (the running config keeps
 * going); a failed fetch is retried on the next offer.
 */
export class ConfigWatcher {
  readonly #o: ConfigWatcherOptions;
  #running: { version: number; config: TopicConfig };
  /** The highest version running or handed out by next(): nothing at or below it is fetched again. */
  #seen: number;
  #rejected: number | null = null;
  #deferred: number | null = null;
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
    if (version <= this.#seen || version === this.#rejected || version === this.#deferred || this.#checking)
      return;
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
    if (
      response.version <= this.#seen ||
      response.version === this.#rejected ||
      response.version === this.#deferred
    )
      return;
    let config: LoadedConfig['config'];
    const topic = this.#running.config.topic;
    try {
      config = validateConfig(response.config, `${this.#o.subject} version ${response.version}`);
      if (config.topic !== topic)
        throw new ConfigError(`${this.#o.subject} version ${response.version} is invalid`, [
          `topic: is "${config.topic}", this agent runs "${topic}"`,
        ]);
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      this.#rejected = response.version;
      this.#o.onRejected(response.version, error);
      return;
    }
    const reason = restartReason(this.#running.config, config);
    if (reason) {
      this.#deferred = response.version;
      this.#o.onDeferred(response.version, reason);
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
    this.#running = { version: loaded.version, config: loaded.config };
  }
}
