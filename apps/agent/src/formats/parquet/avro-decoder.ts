import type { TokenCredential } from '@azure/identity';
import {
  type GetSchemaOptions,
  type Schema,
  type SchemaProperties,
  type SchemaRegistry,
  SchemaRegistryClient,
  type SchemaRegistryClientOptions,
} from '@azure/schema-registry';
import { AvroSerializer } from '@azure/schema-registry-avro';
import type { SourceEvent } from '../../pipeline/event.ts';
import { RowError, type StructType } from '../../pipeline/json-schema.ts';
import { type BackoffOptions, backoffDelay, sleepUnlessAborted } from '../../runtime/backoff.ts';
import { avroRowSchema, avroToJson, parseAvroSchema } from './avro-columns.ts';
import type { BodyDecoder, DecodedRow } from './parquet.ts';

/** `avro/binary+<schema id>`, as `AvroSerializer.serialize` writes it into the event's content type. */
const AVRO_CONTENT_TYPE = /^avro\/binary\+([^+\s]+)$/;

export class SchemaNotFoundError extends Error {
  constructor(id: string, detail: string) {
    super(`schema ${id} is not in the registry (${detail})`);
    this.name = 'SchemaNotFoundError';
  }
}

export class RegistryClosedError extends Error {
  constructor() {
    super('schema registry decoder closed');
    this.name = 'AbortError';
  }
}

interface CachedSchema {
  schema: Schema;
  /** Column types declared by the schema (null: its top type is not a record). */
  row: StructType | null | undefined;
}

export interface RegistryDecoderOptions {
  client: SchemaRegistry;
  /** Only schemas of this group are accepted (case-insensitive); others are dead letters. */
  groupName?: string;
  /** Schemas kept by id (least recently used out first). */
  cacheSize?: number;
  backoff?: BackoffOptions;
  /** Every failed registry call (it is retried; events wait, none is dead-lettered for an outage). */
  onRegistryError?: (error: Error, attempt: number) => void;
  /** A registry call succeeded (clears the readiness problem). */
  onRegistryOk?: () => void;
  /**
   * How long one registry call may take (default 30 s). A call that has not answered by then is
   * abandoned and counts as an outage (retried, reported), so a hung connection cannot stall a
   * partition silently.
   */
  timeoutMs?: number;
}

const statusOf = (error: unknown) => (error as { statusCode?: number }).statusCode;

/**
 * Decodes events written with `@azure/schema-registry-avro` (`AvroSerializer.serialize`): the schema
 * id comes from the content type, the schema from Azure Schema Registry (through `SchemaRegistryClient`),
 * the record from `AvroSerializer.deserialize`.
 *
 * An event whose content type is not `avro/binary+<id>`, whose schema id the registry does not know
 * (404), or whose bytes do not decode with its schema is a dead letter (`undecodable-avro`). A registry
 * that cannot be reached, does not answer in time, throttles, fails or refuses the credential is an
 * outage, not a property of the event: the call is retried with backoff until it succeeds (the partition waits, readiness turns
 * false, the error is reported), so no event is dead-lettered or dropped because of it.
 */
export class RegistryAvroDecoder implements BodyDecoder {
  readonly #o: RegistryDecoderOptions;
  readonly #cache = new Map<string, CachedSchema>();
  readonly #serializer: AvroSerializer;
  readonly #closing = new AbortController();

  constructor(options: RegistryDecoderOptions) {
    this.#o = options;
    const registry: SchemaRegistry = {
      getSchema: (id: string, _options?: GetSchemaOptions) => this.#schema(id).then((c) => c.schema),
      registerSchema: () => Promise.reject(new Error('the agent only reads schemas')),
      getSchemaProperties: (): Promise<SchemaProperties> =>
        Promise.reject(new Error('the agent only reads schemas')),
    };
    this.#serializer = new AvroSerializer(registry);
  }

  async decode(event: SourceEvent, body: Buffer): Promise<DecodedRow | RowError> {
    const contentType = event.contentType ?? '';
    const id = AVRO_CONTENT_TYPE.exec(contentType)?.[1];
    if (!id) {
      return new RowError(
        'undecodable-avro',
        contentType
          ? `content type "${contentType.slice(0, 100)}" is not avro/binary+<schema id>`
          : 'the event has no content type (expected avro/binary+<schema id>)',
      );
    }
    let cached: CachedSchema;
    let value: unknown;
    try {
      cached = await this.#schema(id);
      const group = cached.schema.properties.groupName;
      if (this.#o.groupName && group?.toLowerCase() !== this.#o.groupName.toLowerCase()) {
        return new RowError(
          'undecodable-avro',
          `schema ${id} belongs to group "${group}", not to the configured "${this.#o.groupName}"`,
        );
      }
      value = await this.#serializer.deserialize({ data: body, contentType });
    } catch (error) {
      if (this.#closing.signal.aborted) throw new RegistryClosedError();
      const cause = (error as Error).cause as Error | undefined;
      return new RowError(
        'undecodable-avro',
        `${(error as Error).message}${cause?.message ? `: ${cause.message}` : ''}`,
      );
    }
    if (cached.row === undefined) {
      try {
        cached.row = avroRowSchema(parseAvroSchema(cached.schema.definition));
      } catch {
        cached.row = null;
      }
    }
    const row = avroToJson(value);
    if (row === null || typeof row !== 'object' || Array.isArray(row) || cached.row === null) {
      return new RowError('undecodable-avro', `schema ${id} is not an Avro record; it cannot be a row`);
    }
    return { row: row as Record<string, unknown>, schema: cached.row };
  }

  /** Stops retrying (a decode waiting for the registry rejects). Idempotent. */
  close(): void {
    this.#closing.abort();
  }

  async #schema(id: string): Promise<CachedSchema> {
    const hit = this.#cache.get(id);
    if (hit) {
      this.#cache.delete(id);
      this.#cache.set(id, hit);
      return hit;
    }
    const signal = this.#closing.signal;
    for (let attempt = 0; ; attempt++) {
      if (signal.aborted) throw new RegistryClosedError();
      const timeoutMs = this.#o.timeoutMs ?? 30_000;
      const timeout = AbortSignal.timeout(timeoutMs);
      try {
        const schema = await this.#o.client.getSchema(id, {
          abortSignal: AbortSignal.any([signal, timeout]),
        });
        this.#o.onRegistryOk?.();
        if (!schema) throw new SchemaNotFoundError(id, 'no schema returned');
        const entry: CachedSchema = { schema, row: undefined };
        this.#cache.set(id, entry);
        if (this.#cache.size > (this.#o.cacheSize ?? 256)) {
          this.#cache.delete(this.#cache.keys().next().value!);
        }
        return entry;
      } catch (error) {
        if (error instanceof SchemaNotFoundError) throw error;
        if (signal.aborted) throw new RegistryClosedError();
        const status = statusOf(error);
        // 404: no such schema; 400: not a schema id at all. Both are facts about the event.
        if (status === 404 || status === 400) {
          this.#o.onRegistryOk?.();
          throw new SchemaNotFoundError(id, `${status} ${(error as Error).message.split('\n')[0]}`);
        }
        const detail = timeout.aborted
          ? `no answer within ${timeoutMs} ms`
          : `${status ? `${status} ` : ''}${(error as Error).message.split('\n')[0]}`;
        this.#o.onRegistryError?.(new Error(`schema registry: ${detail}`), attempt);
        const delay = Math.max(250, backoffDelay(attempt, this.#o.backoff ?? { baseMs: 500, maxMs: 30_000 }));
        if (!(await sleepUnlessAborted(delay, signal))) throw new RegistryClosedError();
      }
    }
  }
}

export interface RegistryConnection {
  fullyQualifiedNamespace: string;
  credential: TokenCredential;
  /** Test-only TLS trust (a self-signed registry double); production uses the system's CAs. */
  clientOptions?: SchemaRegistryClientOptions;
}

/** The official client against `https://<namespace>`; the credential needs the Schema Registry Reader role. */
export function schemaRegistryClient(connection: RegistryConnection): SchemaRegistryClient {
  return new SchemaRegistryClient(`https://${connection.fullyQualifiedNamespace}`, connection.credential, {
    retryOptions: { maxRetries: 2 },
    ...connection.clientOptions,
  });
}
