import { z } from 'zod';
import { cpuMillicores, memoryBytes } from './agent-runtime.ts';
import { PATH_PRESETS, templateProblems } from './path-template.ts';

/**
 * TopicConfig: the single document an agent runs from. The web app edits it, stores it versioned,
 * and hands it to the agent (file, environment or the control plane's `agent.config`).
 */

const MiB = 1024 * 1024;

const text = (what: string, max = 1024) =>
  z
    .string({ error: `${what} is required` })
    .trim()
    // A missing value is one problem, not also a malformed one.
    .min(1, { error: `${what} is required`, abort: true })
    .max(max, `must be at most ${max} characters`);

/** A DNS host name (labels of letters, digits and dashes) with an optional port. */
const HOST_NAME =
  /^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*(:\d{1,5})?$/;
const namespace = (what: string) =>
  text(what, 260).regex(HOST_NAME, 'must be a host name such as myns.servicebus.windows.net');

/** Lower-case letters, digits and dashes: safe as a blob path part and a Kubernetes object name. */
export const TopicName = z
  .string({ error: 'topic name is required' })
  .min(1, 'topic name is required')
  .max(40, 'must be at most 40 characters (it becomes part of Kubernetes object names)')
  .regex(
    /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/,
    'use lower-case letters, digits and dashes, starting and ending with a letter or digit',
  )
  .meta({ description: 'Unique topic name; lower-case letters, digits and dashes.' });

export const SecretString = text('secret').meta({
  description: 'A secret value. Stored encrypted by the control plane and never shown again.',
});

const ConnectionString = z
  .string({ error: 'connection string is required' })
  .trim()
  .min(1, 'connection string is required')
  .max(2048, 'must be at most 2048 characters')
  .refine((s) => /(^|;)\s*(Endpoint|BlobEndpoint|AccountName|UseDevelopmentStorage)\s*=/i.test(s), {
    message: 'does not look like a connection string (expected "Endpoint=…" or "AccountName=…" parts)',
  });

export const EventHubAuth = z
  .discriminatedUnion(
    'kind',
    [
      z.strictObject({
        kind: z.literal('connectionString'),
        connectionString: ConnectionString.meta({
          description: 'Event Hubs connection string with Listen rights (secret).',
        }),
      }),
      z.strictObject({
        kind: z.literal('workloadIdentity'),
        clientId: z
          .string()
          .uuid('must be a GUID')
          .optional()
          .meta({ description: 'Managed identity client id; default: the pod’s workload identity.' }),
      }),
    ],
    { error: 'must be "connectionString" or "workloadIdentity"' },
  )
  .meta({ description: 'How the agent authenticates to Event Hubs.' });

export const StorageAuth = z
  .discriminatedUnion(
    'kind',
    [
      z.strictObject({
        kind: z.literal('connectionString'),
        connectionString: ConnectionString.meta({
          description: 'Storage account connection string (secret).',
        }),
      }),
      z.strictObject({
        kind: z.literal('workloadIdentity'),
        accountUrl: z
          .url({
            protocol: /^https?$/,
            error: 'must be the account’s blob URL, e.g. https://acct.blob.core.windows.net',
          })
          .max(2048, 'must be at most 2048 characters')
          .meta({ description: 'Blob endpoint of the storage account (ADLS Gen2 accounts work too).' }),
        clientId: z.string().uuid('must be a GUID').optional(),
      }),
    ],
    { error: 'must be "connectionString" or "workloadIdentity"' },
  )
  .meta({ description: 'How the agent authenticates to the storage account.' });

export const ContainerName = z
  .string({ error: 'container name is required' })
  .regex(
    /^(?=.{3,63}$)[a-z0-9]+(-[a-z0-9]+)*$/,
    'must be 3–63 lower-case letters, digits and single dashes (Azure container naming rules)',
  );

/** The namespace an Event Hubs connection string points at: the host of its `Endpoint=sb://<host>/`. */
export function namespaceOfConnectionString(connectionString: string): string | undefined {
  const host = /(?:^|;)\s*Endpoint\s*=\s*sb:\/\/([^/;]*)/i.exec(connectionString)?.[1]?.trim();
  return host && host.length <= 260 && HOST_NAME.test(host) ? host : undefined;
}

export const SourceFields = z.strictObject({
  fullyQualifiedNamespace: namespace('namespace').optional().meta({
    description:
      'Fully-qualified Event Hubs namespace, e.g. myns.servicebus.windows.net. With a connection string it is taken from its Endpoint; required with workload identity.',
  }),
  // Azure's own naming rules; they also keep {hub} from ever rendering as "." or "..".
  eventHubName: text('event hub name', 256)
    .regex(
      /^[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?$/,
      'use letters, digits, ".", "_" and "-", starting and ending with a letter or digit',
    )
    .meta({ description: 'Event hub (topic) to consume.' }),
  consumerGroup: text('consumer group', 50)
    .regex(
      /^(\$default|[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?)$/i,
      'use "$Default" or letters, digits, ".", "_" and "-"',
    )
    .default('$Default')
    .meta({ description: 'Consumer group the agent reads with; give Hubcap its own.' }),
  auth: EventHubAuth,
  startPosition: z
    .enum(['earliest', 'latest'], { error: 'must be "earliest" or "latest"' })
    .default('earliest')
    .meta({ description: 'Where to start on partitions that have no checkpoint yet.' }),
});

/** With a connection string, the namespace is the one it points at: no second field to get wrong. */
export const Source = SourceFields.transform((source, ctx) => {
  const fullyQualifiedNamespace =
    source.auth.kind === 'connectionString'
      ? namespaceOfConnectionString(source.auth.connectionString)
      : source.fullyQualifiedNamespace;
  if (fullyQualifiedNamespace) return { ...source, fullyQualifiedNamespace };
  ctx.addIssue(
    source.auth.kind === 'connectionString'
      ? {
          code: 'custom',
          path: ['auth', 'connectionString'],
          message: 'must name the namespace: Endpoint=sb://<namespace>/;…',
        }
      : { code: 'custom', path: ['fullyQualifiedNamespace'], message: 'namespace is required' },
  );
  return z.NEVER;
});

export const Destination = z
  .discriminatedUnion(
    'kind',
    [
      z.strictObject({
        kind: z.literal('azureBlob'),
        account: StorageAuth,
        container: ContainerName.meta({ description: 'Container the files are written to.' }),
        prefix: z
          .string()
          .max(512, 'must be at most 512 characters')
          .regex(
            /^([A-Za-z0-9=._-]+\/)*[A-Za-z0-9=._-]*$/,
            'use path segments separated by "/" (no leading "/")',
          )
          .refine(
            (prefix) => !prefix.split('/').some((segment) => segment === '.' || segment === '..'),
            'must not contain "." or ".." path segments',
          )
          .default('')
          .meta({ description: 'Folder inside the container, prepended to the path template.' }),
        checkpointContainer: ContainerName.default('hubcap-checkpoints').meta({
          description: 'Container for partition ownership and checkpoints (same account).',
        }),
      }),
      z.strictObject({
        kind: z.literal('localFolder'),
        path: text('folder path', 1024).meta({
          description: 'Folder the files are written to (development).',
        }),
      }),
    ],
    { error: 'must be "azureBlob" or "localFolder"' },
  )
  .meta({ description: 'Where files land.' });

export const PathTemplate = z
  .string()
  .max(512, 'must be at most 512 characters')
  .default(PATH_PRESETS.capture)
  .superRefine((template, ctx) => {
    for (const problem of templateProblems(template)) ctx.addIssue({ code: 'custom', message: problem });
  })
  .meta({
    description:
      'Folder layout under the prefix. Variables: {namespace} {hub} {topic} {partition} {yyyy} {MM} {dd} {HH} {mm} {ss}. ' +
      'A last segment {ss} starts the file name instead of making a folder, as Capture does. ' +
      `Capture: "${PATH_PRESETS.capture}"; Hive: "${PATH_PRESETS.hive}".`,
  });

export const SchemaRegistry = z
  .strictObject({
    fullyQualifiedNamespace: namespace('schema registry namespace').meta({
      description: 'Event Hubs namespace that hosts the Schema Registry, e.g. myns.servicebus.windows.net.',
    }),
    groupName: z
      .string()
      .trim()
      .min(1, 'schema group is required when set')
      .max(256, 'must be at most 256 characters')
      .optional()
      .meta({
        description: 'Only accept schemas of this schema group; events with others become dead letters.',
      }),
    clientId: z
      .string()
      .uuid('must be a GUID')
      .optional()
      .meta({
        description:
          'Managed identity client id with the Schema Registry Reader role; default: the pod’s workload identity. ' +
          '(The registry takes Microsoft Entra ID tokens only, no connection strings.)',
      }),
  })
  .meta({
    description:
      'Decode Avro events written with Azure Schema Registry (content type avro/binary+<schema id>); without it, events must be JSON.',
  });

export const Format = z
  .discriminatedUnion(
    'type',
    [
      z.strictObject({
        type: z.literal('ndjson'),
        compression: z
          .enum(['gzip', 'zstd', 'none'], { error: 'must be "gzip", "zstd" or "none"' })
          .default('gzip')
          .meta({ description: 'Compression of the whole file (.ndjson.gz, .ndjson.zst or .ndjson).' }),
        nonJson: z.enum(['wrap', 'deadLetter'], { error: 'must be "wrap" or "deadLetter"' }).optional().meta({
          description:
            'Bodies that are not JSON every reader accepts: "wrap" (the default) writes them as a JSON string (UTF-8 text) or {"$base64": …} (bytes); "deadLetter" sends them to the dead-letter area.',
        }),
      }),
      z.strictObject({
        type: z.literal('avro'),
        codec: z
          .enum(['deflate', 'null'], { error: 'must be "deflate" or "null"' })
          .default('deflate')
          .meta({ description: 'Avro block codec; Capture writes deflate.' }),
      }),
      z.strictObject({
        type: z.literal('parquet'),
        compression: z
          .enum(['zstd', 'snappy', 'gzip', 'none'], { error: 'must be "zstd", "snappy", "gzip" or "none"' })
          .default('zstd')
          .meta({ description: 'Parquet column compression.' }),
        schemaRegistry: SchemaRegistry.optional(),
      }),
    ],
    { error: 'must be "ndjson", "avro" or "parquet"' },
  )
  .default({ type: 'ndjson', compression: 'gzip' })
  .meta({
    description: 'File format: NDJSON (raw bodies, one per line), Avro in Capture’s schema, or Parquet.',
  });

/**
 * A whole number in [min, max]. The range is checked first and ends the checks, so a value past it (20
 * digits, say, which is no safe integer either) is told the range rather than "must be a whole number".
 */
const wholeNumber = (min: number, max: number, show: (n: number) => string = String) => {
  const range = `must be between ${show(min)} and ${show(max)}`;
  return z
    .number({ error: 'must be a number' })
    .min(min, { error: range, abort: true })
    .max(max, { error: range, abort: true })
    .int('must be a whole number');
};
const bytes = (n: number) => `${n} (${n >= 1024 * MiB ? `${n / (1024 * MiB)} GiB` : `${n / MiB} MiB`})`;

export const Batching = z
  .strictObject({
    maxBytes: wholeNumber(MiB, 4096 * MiB, bytes)
      .default(128 * MiB)
      .meta({ description: 'Flush a file when its uncompressed size reaches this many bytes.' }),
    maxEvents: wholeNumber(1, 50_000_000)
      .default(1_000_000)
      .meta({ description: 'Flush a file when it holds this many events.' }),
    maxAgeSeconds: wholeNumber(1, 3600).default(300).meta({
      description:
        'Flush a file this many seconds after its first event arrived (a partition’s first file after the agent starts: at most 10).',
    }),
  })
  .prefault({})
  .meta({ description: 'When an open file is flushed; whichever limit is reached first.' });

/** Kubernetes resource quantities, e.g. 250m / 0.5 CPU and 256Mi / 1Gi memory. */
/**
 * What an agent replica may ask of a node: from a millicore up to the largest nodes (256 cores, 1 TiB).
 * Memory starts at the smallest heap the deployer sizes (64 MiB of old space); less cannot start Node.
 */
const MAX_CPU_MILLICORES = 256_000;
const MIN_MEMORY_BYTES = 64 * 2 ** 20;
const MAX_MEMORY_BYTES = 2 ** 40;
const CpuQuantity = z
  .string()
  .max(20, 'must be at most 20 characters')
  .regex(/^(\d+m|\d+(\.\d+)?)$/, 'must be a CPU quantity such as "250m" or "0.5"')
  .refine(within(cpuMillicores, 1, Infinity), 'must be more than 0, such as "250m"')
  .refine(within(cpuMillicores, 0, MAX_CPU_MILLICORES), 'must be at most 256 cores');
const MemoryQuantity = z
  .string()
  .max(20, 'must be at most 20 characters')
  .regex(/^\d+(Ki|Mi|Gi|Ti|k|M|G|T)?$/, 'must be a memory quantity such as "256Mi" or "1Gi"')
  .refine(within(memoryQuantityBytes, MIN_MEMORY_BYTES, Infinity), 'must be at least 64Mi')
  .refine(within(memoryQuantityBytes, 0, MAX_MEMORY_BYTES), 'must be at most 1Ti');

/** A check of a quantity's size; one that is not a quantity passes (the pattern names it). */
function within(size: (quantity: string) => number, min: number, max: number) {
  return (quantity: string) => {
    const n = size(quantity);
    return Number.isNaN(n) || (n >= min && n <= max);
  };
}

function memoryQuantityBytes(quantity: string): number {
  try {
    return memoryBytes(quantity);
  } catch {
    return Number.NaN;
  }
}

export const Scaling = z
  .strictObject({
    replicas: wholeNumber(0, 32)
      .default(1)
      .meta({ description: 'Agent replicas; they share the partitions between them.' }),
    cpu: CpuQuantity.default('1').meta({
      description:
        'CPU request and limit per replica. The default absorbs a 3× burst of a 300 GB/day topic in every format (NDJSON and Parquet need 600m, Avro 1); the topic page recommends from measured rates (docs/sizing.md).',
    }),
    memory: MemoryQuantity.default('512Mi').meta({
      description:
        'Memory request and limit per replica; the V8 heap (and Parquet’s DuckDB) are sized from it. The default holds a catch-up in every format (NDJSON and Avro need 384Mi, Parquet 512Mi; docs/sizing.md).',
    }),
  })
  .prefault({})
  .meta({ description: 'Replicas and resources of the agent deployment.' });

export const Reporting = z
  .strictObject({
    intervalSeconds: wholeNumber(1, 300)
      .default(10)
      .meta({ description: 'Seconds between two reports to the control plane.' }),
  })
  .prefault({})
  .meta({ description: 'How often the agent reports to the control plane.' });

export const Completeness = z
  .strictObject({
    markerPath: z
      .string()
      .min(1, 'must not be empty')
      .max(512, 'must be at most 512 characters')
      .superRefine((template, ctx) => {
        for (const problem of templateProblems(template)) ctx.addIssue({ code: 'custom', message: problem });
        if (template.includes('{partition}'))
          ctx.addIssue({ code: 'custom', message: 'is one file per topic: it must not use {partition}' });
      })
      .optional()
      .meta({
        description:
          'Where the topic marker of a complete window goes, under the prefix, rendered at the window start ' +
          '(e.g. "topic={topic}/date={yyyy}-{MM}-{dd}/hour={HH}/_SUCCESS"). Default: "_SUCCESS" in the window ' +
          'folder; for a template with {partition} in the window folder (Capture), the same folders without the ' +
          'partition under "_hubcap/". See docs/completeness.md.',
      }),
  })
  .prefault({})
  .meta({
    description:
      'Completeness manifests: per partition and window, "_hubcap/<partition>.manifest.json" in the window folder; a topic marker once every partition sealed the window.',
  });

export const TopicConfig = z
  .strictObject({
    topic: TopicName,
    source: Source,
    destination: Destination,
    pathTemplate: PathTemplate,
    format: Format,
    batching: Batching,
    scaling: Scaling,
    reporting: Reporting,
    completeness: Completeness,
  })
  .meta({ description: 'Everything an agent needs to land one topic.' });

/** A validated config, with defaults filled in. */
export type TopicConfig = z.output<typeof TopicConfig>;
/** What a user may write: defaults may be left out. */
export type TopicConfigInput = z.input<typeof TopicConfig>;
export type EventHubAuth = z.output<typeof EventHubAuth>;
export type StorageAuth = z.output<typeof StorageAuth>;
export type Destination = z.output<typeof Destination>;
export type Format = z.output<typeof Format>;
export type SchemaRegistry = z.output<typeof SchemaRegistry>;
