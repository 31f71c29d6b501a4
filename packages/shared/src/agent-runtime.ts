import type { Format, TopicConfig } from './topic-config.ts';

const UNITS: Record<string, number> = {
  '': 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
};

/** Bytes of a Kubernetes memory quantity such as "512Mi", "1Gi" or "300M". */
export function memoryBytes(quantity: string): number {
  const match = /^(\d+)(Ki|Mi|Gi|Ti|k|M|G|T)?$/.exec(quantity);
  if (!match) throw new Error(`"${quantity}" is not a memory quantity such as "256Mi" or "1Gi"`);
  return Number(match[1]) * (UNITS[match[2] ?? ''] ?? 1);
}

/** Millicores of a Kubernetes CPU quantity ("250m", "0.5", "2"); NaN when it is not one. */
export function cpuMillicores(quantity: string): number {
  if (!/^(\d+m|\d+(\.\d+)?)$/.test(quantity)) return Number.NaN;
  return quantity.endsWith('m') ? Number(quantity.slice(0, -1)) : Math.round(Number(quantity) * 1000);
}

/** Young-generation semi-space, MiB: every scavenge copies the events still queued, so it stays small. */
const SEMI_SPACE_MIB = 8;
/**
 * Shares of the memory limit. V8's old generation gets 5/8; the rest holds buffers, code and native
 * memory. A Parquet agent also runs DuckDB, whose memory lives outside the V8 heap: it gets 1/4 and the
 * heap 3/8, so the two together stay where the heap alone was.
 */
const OLD_SPACE_SHARE = 5 / 8;
const PARQUET_OLD_SPACE_SHARE = 3 / 8;
const DUCKDB_SHARE = 1 / 4;
const MIN_OLD_SPACE_MIB = 64;
const MIN_DUCKDB_MIB = 64;

export interface AgentMemoryBudget {
  /** NODE_OPTIONS: the V8 heap's limits. */
  nodeOptions: string;
  /** DuckDB's memory_limit (Parquet agents), e.g. "128MiB"; null for formats that do not use DuckDB. */
  duckdbMemoryLimit: string | null;
}

/**
 * How an agent whose container may use `memory` (the topic's `scaling.memory`) divides it. Without
 * limits V8 sizes its heap from the machine and lets garbage (event bodies, compressed chunks)
 * accumulate far beyond what is live, and DuckDB takes its own default of 256 MB whatever the limit;
 * with them peak memory follows the limit (measured in apps/agent/bench/results.md). The deployers set
 * NODE_OPTIONS from it; the agent sizes DuckDB from it.
 */
export function agentMemoryBudget(memory: string, format: Format['type']): AgentMemoryBudget {
  const limitMiB = memoryBytes(memory) / 2 ** 20;
  const parquet = format === 'parquet';
  const share = parquet ? PARQUET_OLD_SPACE_SHARE : OLD_SPACE_SHARE;
  const oldSpace = Math.max(MIN_OLD_SPACE_MIB, Math.floor(limitMiB * share));
  return {
    nodeOptions: `--max-semi-space-size=${SEMI_SPACE_MIB} --max-old-space-size=${oldSpace}`,
    duckdbMemoryLimit: parquet ? `${Math.max(MIN_DUCKDB_MIB, Math.floor(limitMiB * DUCKDB_SHARE))}MiB` : null,
  };
}

/** NODE_OPTIONS for an agent of this memory limit and format (see `agentMemoryBudget`). */
export function agentNodeOptions(memory: string, format: Format['type'] = 'ndjson'): string {
  return agentMemoryBudget(memory, format).nodeOptions;
}

/**
 * glibc malloc arenas per process. By default glibc gives each thread that allocates its own arena
 * (up to 8 per core), and compression, hashing and DuckDB allocate on libuv's and DuckDB's threads,
 * so freed memory stays spread over arenas that are rarely returned. Two arenas: 8–14 MiB less peak
 * RSS flat out in every format, and no more CPU (apps/agent/bench/results.md).
 */
const MALLOC_ARENAS = 2;

/** The environment every deployer gives an agent process: its heap limits and its allocator's arenas. */
export function agentProcessEnv(memory: string, format: Format['type'] = 'ndjson'): Record<string, string> {
  return { NODE_OPTIONS: agentNodeOptions(memory, format), MALLOC_ARENA_MAX: String(MALLOC_ARENAS) };
}

/** The storage account a connection string points at (its name or blob endpoint), never its key. */
function accountOf(connectionString: string): string {
  const parts = new Map(
    connectionString.split(';').map((part) => {
      const eq = part.indexOf('=');
      return [part.slice(0, eq).trim().toLowerCase(), part.slice(eq + 1).trim()] as const;
    }),
  );
  return parts.get('blobendpoint') ?? parts.get('accountname') ?? '';
}

/**
 * The parts of a config that name a topic's files and decide their bytes: the stream read (its
 * sequence numbers name the files), where files and checkpoints go, the path template and the format.
 * Replicas running two layouts at once can write the same events twice (a file published but not yet
 * checkpointed by one is written again by the other under another name), so a new layout is never
 * applied in place or by a rolling update: every replica drains and stops before any starts on it.
 */
export function fileLayout(config: TopicConfig): string {
  const { fullyQualifiedNamespace, eventHubName, consumerGroup } = config.source;
  const d = config.destination;
  const destination =
    d.kind === 'localFolder'
      ? { path: d.path }
      : {
          account:
            d.account.kind === 'connectionString'
              ? accountOf(d.account.connectionString)
              : d.account.accountUrl,
          container: d.container,
          prefix: d.prefix,
          checkpointContainer: d.checkpointContainer,
        };
  return JSON.stringify({
    stream: [fullyQualifiedNamespace, eventHubName, consumerGroup],
    destination,
    pathTemplate: config.pathTemplate,
    format: config.format,
  });
}

/**
 * Why a running agent cannot switch from `running` to `next` in place (null: it can). In place means:
 * drain and checkpoint every open file, then start reading with the new config in the same process.
 * What the process was started with (memory, CPU, identity) and a new file layout need new processes.
 */
export function restartReason(running: TopicConfig, next: TopicConfig): string | null {
  if (fileLayout(running) !== fileLayout(next))
    return 'the file layout changed (stream, destination, path or format): every replica restarts';
  const { cpu, memory } = running.scaling;
  if (cpu !== next.scaling.cpu || memory !== next.scaling.memory)
    return 'the CPU or memory limit changed: the replicas restart with the new limits';
  if (JSON.stringify(identities(running)) !== JSON.stringify(identities(next)))
    return 'the workload identity changed: the replicas restart with the new identity';
  return null;
}

/** Client ids of the workload identities a config uses (the pod gets its identity when it starts). */
function identities(config: TopicConfig): (string | null)[] {
  const ids: (string | null)[] = [];
  if (config.source.auth.kind === 'workloadIdentity') ids.push(config.source.auth.clientId ?? null);
  const d = config.destination;
  if (d.kind === 'azureBlob' && d.account.kind === 'workloadIdentity') ids.push(d.account.clientId ?? null);
  return ids;
}
