/**
 * The part of a received Event Hubs event the agent uses. `ReceivedEventData` from `@azure/event-hubs`
 * is structurally compatible, so the pure pipeline never imports the SDK.
 */
export interface SourceEvent {
  /** Raw bytes (the consumer runs with `skipParsingBodyAsJson`); other types only for AMQP value bodies. */
  body: unknown;
  sequenceNumber: number;
  offset: string;
  enqueuedTimeUtc: Date;
  partitionKey?: string | null;
  /** e.g. `avro/binary+<schema id>` for events written with a schema registry serializer. */
  contentType?: string;
  properties?: Record<string, unknown>;
  systemProperties?: Record<string, unknown>;
  /** The AMQP message as the SDK received it (see eventProperties). */
  getRawAmqpMessage?(): { applicationProperties?: Record<string, unknown> };
}

/**
 * Application properties with their AMQP types. The SDK's `properties` lose them: it turns every
 * timestamp into a number and shallow-copies every binary value into a plain object
 * (`{"0":1,"1":2}`), so the agent reads the raw AMQP message's properties instead, as the AMQP
 * library decoded them: binary → Buffer, timestamp → Date, integers and doubles → number (a long or
 * ulong beyond ±2^53 → its 8 big-endian bytes as a Buffer, indistinguishable from binary), string and
 * symbol → string, boolean, null.
 */
export function eventProperties(event: SourceEvent): Record<string, unknown> | undefined {
  return event.getRawAmqpMessage?.().applicationProperties ?? event.properties;
}

const EMPTY = Buffer.alloc(0);

/** The body as bytes without copying when it already is bytes. */
export function bodyBytes(body: unknown): Buffer {
  if (Buffer.isBuffer(body)) return body;
  if (body instanceof Uint8Array) return Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  if (body === undefined || body === null) return EMPTY;
  if (typeof body === 'string') return Buffer.from(body, 'utf8');
  // AMQP value/sequence bodies arrive decoded; JSON is the closest faithful text form.
  return Buffer.from(JSON.stringify(body), 'utf8');
}

/** Uncompressed size an event adds to a segment; what `batching.maxBytes` counts. */
export function eventSize(event: SourceEvent): number {
  return bodyBytes(event.body).byteLength + 1;
}
