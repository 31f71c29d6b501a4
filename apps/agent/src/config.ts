import { readFile } from 'node:fs/promises';
import { parseOrThrow, TopicConfig, topicEndpointProblems, ValidationError } from '@hubcap/shared';
import type { Env } from './env.ts';
import type { ControlPlaneClient } from './report/control-plane-client.ts';
import { backoffDelay, sleepUnlessAborted } from './runtime/backoff.ts';

/** The part of the control plane a config load needs. */
type ConfigSource = Pick<ControlPlaneClient, 'fetchConfig'>;

/** A user mistake in the configuration: reported as plain lines, never as a stack trace. */
export class ConfigError extends Error {
  readonly problems: string[];
  constructor(message: string, problems: string[] = []) {
    super(problems.length ? `${message}:\n${problems.map((p) => `  - ${p}`).join('\n')}` : message);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

/** The control plane refused this token the config: a token an admin minted for a hand-run agent. */
class ConfigNotForThisToken extends ConfigError {}

export interface LoadedConfig {
  config: TopicConfig;
  version: number | undefined;
  source: string;
}

function parseJson(text: string, subject: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new ConfigError(`${subject} is not valid JSON (${(error as Error).message})`);
  }
}

/** The shared zod schema (which knows every format this agent writes); problems as a ConfigError. */
export function validateConfig(input: unknown, subject: string): TopicConfig {
  try {
    return parseOrThrow(TopicConfig, input, subject);
  } catch (error) {
    if (error instanceof ValidationError) throw new ConfigError(`${subject} is invalid`, error.problems);
    throw error;
  }
}

/** How a start-up fetch of the config waits for a control plane that is not up (yet). */
export interface ConfigRetry {
  /** Stops the retries (the process is stopping). */
  signal?: AbortSignal;
  /** Called before each wait; without it the first failure is final. */
  onRetry?(error: Error, attempt: number, delayMs: number): void;
  /** First backoff step (full jitter, doubling up to 30 s). Default 1000. */
  baseMs?: number;
}

/** HTTP status of a tRPC client error, when the server answered. */
const httpStatus = (error: unknown) => (error as { data?: { httpStatus?: number } })?.data?.httpStatus;

/**
 * The control plane's answer to `agent.config`, retried while it is unreachable or failing (it may
 * start after its agents, or restart): waiting beats a crash loop. A refused token is final.
 */
async function fetchWithRetry(
  client: ConfigSource,
  retry: ConfigRetry,
): Promise<{ version: number; config: unknown }> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await client.fetchConfig();
    } catch (error) {
      const status = httpStatus(error);
      const message = `cannot fetch the config from the control plane: ${(error as Error).message}`;
      if (status === 403) throw new ConfigNotForThisToken(message);
      if (status === 401 || !retry.onRetry || retry.signal?.aborted) throw new ConfigError(message);
      const delay = backoffDelay(attempt, { baseMs: retry.baseMs ?? 1000, maxMs: 30_000 });
      retry.onRetry(error as Error, attempt, delay);
      if (!(await sleepUnlessAborted(delay, retry.signal))) throw new ConfigError(message);
    }
  }
}

/**
 * The TopicConfig. An agent with a control plane (HUBCAP_CONTROL_PLANE_URL + HUBCAP_AGENT_TOKEN, as
 * every deployed agent has) gets it from `agent.config`, and later versions the same way; without
 * one, or when the control plane refuses its token the config (an admin minted it for a hand-run
 * agent, which only reports), from HUBCAP_CONFIG_FILE or HUBCAP_CONFIG (JSON), read once.
 */
export async function loadConfig(
  env: Env,
  controlPlane: () => ConfigSource | undefined,
  retry: ConfigRetry = {},
): Promise<LoadedConfig> {
  const loaded = await readConfig(env, controlPlane, retry);
  // The control plane's own rule: only Azure endpoints unless the operator allows more, and
  // managed-identity tokens to Azure endpoints only.
  const problems = topicEndpointProblems(loaded.config, env.HUBCAP_ALLOWED_ENDPOINTS);
  if (problems.length > 0) {
    throw new ConfigError(
      `${loaded.source} is refused`,
      problems.map((p) => `${p.field}: ${p.message}`),
    );
  }
  return loaded;
}

async function readConfig(
  env: Env,
  controlPlane: () => ConfigSource | undefined,
  retry: ConfigRetry,
): Promise<LoadedConfig> {
  const client = controlPlane();
  if (client) {
    const subject = `config from ${env.HUBCAP_CONTROL_PLANE_URL}`;
    try {
      const response = await fetchWithRetry(client, retry);
      return { config: validateConfig(response.config, subject), version: response.version, source: subject };
    } catch (error) {
      // A hand-run agent's token (minted by an admin) only reports: its config comes from a file.
      const hasFile = env.HUBCAP_CONFIG_FILE || env.HUBCAP_CONFIG;
      if (!(error instanceof ConfigNotForThisToken) || !hasFile) throw error;
    }
  }
  if (env.HUBCAP_CONFIG_FILE) {
    const subject = `config file ${env.HUBCAP_CONFIG_FILE}`;
    let text: string;
    try {
      text = await readFile(env.HUBCAP_CONFIG_FILE, 'utf8');
    } catch (error) {
      throw new ConfigError(
        `cannot read ${subject}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
      );
    }
    return { config: validateConfig(parseJson(text, subject), subject), version: undefined, source: subject };
  }
  if (env.HUBCAP_CONFIG) {
    const subject = 'HUBCAP_CONFIG';
    return {
      config: validateConfig(parseJson(env.HUBCAP_CONFIG, subject), subject),
      version: undefined,
      source: subject,
    };
  }
  throw new ConfigError(
    'no configuration: set HUBCAP_CONTROL_PLANE_URL and HUBCAP_AGENT_TOKEN (the control plane), or HUBCAP_CONFIG_FILE (a JSON file) or HUBCAP_CONFIG (JSON) to run without one',
  );
}
