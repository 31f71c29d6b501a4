import { hostname, tmpdir } from 'node:os';
import {
  allowedEndpointProblem,
  describeIssues,
  parseAllowedEndpoints,
  ValidationError,
} from '@hubcap/shared';
import { z } from 'zod';
import { DEFAULT_BLOCK_BYTES } from './sink/azure-blob-sink.ts';

/** The only place that reads process.env. Every variable is validated at boot. */

const int = (min: number, max: number) => z.coerce.number().int('must be a whole number').min(min).max(max);
const bool = z
  .enum(['true', 'false', '1', '0'], { error: 'must be "true" or "false"' })
  .transform((v) => v === 'true' || v === '1');
const optionalText = z
  .string()
  .trim()
  .transform((v) => (v === '' ? undefined : v))
  .optional();

export const Env = z.object({
  HUBCAP_CONFIG_FILE: optionalText,
  HUBCAP_CONFIG: optionalText,
  HUBCAP_CONTROL_PLANE_URL: optionalText.pipe(z.url({ error: 'must be an http(s) URL' }).optional()),
  HUBCAP_AGENT_TOKEN: optionalText,
  HUBCAP_AGENT_ID: optionalText,
  /** A replay run: its id; the control plane gives its window and the topic's config. */
  HUBCAP_REPLAY_ID: optionalText.pipe(
    z
      .string()
      .regex(/^[a-z0-9]{1,40}$/, 'must be a replay id')
      .optional(),
  ),
  /** A hand-run replay without a control plane: its window as JSON (with HUBCAP_CONFIG[_FILE]). */
  HUBCAP_REPLAY: optionalText,
  /** Hosts beyond Azure's endpoints this agent may connect to (`host`, `host:port`, `*.suffix`, comma-separated). */
  HUBCAP_ALLOWED_ENDPOINTS: z
    .string()
    .optional()
    .transform(parseAllowedEndpoints)
    .superRefine((entries, ctx) => {
      for (const entry of entries) {
        const problem = allowedEndpointProblem(entry);
        if (problem) ctx.addIssue({ code: 'custom', message: problem });
      }
    }),
  HUBCAP_HTTP_PORT: int(0, 65535).default(8080),
  HUBCAP_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  HUBCAP_DRAIN_TIMEOUT_MS: int(0, 600_000).default(25_000),
  HUBCAP_MAX_BATCH_SIZE: int(1, 100_000).default(300),
  HUBCAP_MAX_WAIT_SECONDS: z.coerce.number().min(0.05).max(60).default(1),
  // Events waiting in the SDK's queue survive every young-generation collection (which copies them):
  // a short queue keeps garbage collection cheap and memory low, and measured no slower (bench/results.md).
  HUBCAP_PREFETCH_COUNT: int(0, 1_000_000).default(300),
  HUBCAP_LB_UPDATE_INTERVAL_MS: int(100, 600_000).default(10_000),
  HUBCAP_LB_OWNERSHIP_EXPIRY_MS: int(1000, 3_600_000).default(60_000),
  HUBCAP_BLOCK_BYTES: int(64 * 1024, 100 * 1024 * 1024).default(DEFAULT_BLOCK_BYTES),
  HUBCAP_CREATE_CONTAINERS: bool.default(true),
  /** Parquet: local folder for spilled rows and files before upload (an emptyDir on Kubernetes). */
  HUBCAP_SPILL_DIR: optionalText.transform((v) => v ?? tmpdir()),
  /** Parquet: bodies larger than this are dead letters (Event Hubs events are at most 1 MB). */
  HUBCAP_MAX_BODY_BYTES: int(1024, 256 * 1024 * 1024).default(1024 * 1024),
  HUBCAP_DUCKDB_THREADS: int(1, 64).default(1),
  /** Parquet: DuckDB's memory limit; default: a quarter of the topic's `scaling.memory` (agentMemoryBudget). */
  HUBCAP_DUCKDB_MEMORY_LIMIT: z
    .string()
    .regex(/^\d+(\.\d+)?\s*(KB|MB|GB|KiB|MiB|GiB)$/i, 'must be a size such as "256MB"')
    .optional(),
  /**
   * Staging data (blobs or temp files) left by a killed agent is removed once untouched this long;
   * unset: max(1 day, 10 × the topic's segment max age), which a live file's whole life stays within
   * even while other replicas run a longer max age (see TopicPipeline's staging sweep).
   */
  HUBCAP_STAGING_SWEEP_AFTER_SECONDS: int(1, 30 * 24 * 3600).optional(),
  /** How often the staging sweep runs (also once at start). */
  HUBCAP_STAGING_SWEEP_INTERVAL_SECONDS: int(1, 24 * 3600).default(900),
  /** Test hook: sleep between publishing a file and checkpointing it (crash tests). */
  HUBCAP_TEST_PAUSE_AFTER_COMMIT_MS: int(0, 600_000).default(0),
});

export type Env = z.output<typeof Env>;

export function readEnv(source: NodeJS.ProcessEnv = process.env): Env {
  const result = Env.safeParse(source);
  if (!result.success) throw new ValidationError('environment', describeIssues(result.error));
  return result.data;
}

export function defaultAgentId(): string {
  return `${hostname()}-${process.pid}`;
}
