import { type AddressInfo, connect, createServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { SchemaRegistryClient } from '@azure/schema-registry';
import { AvroSerializer } from '@azure/schema-registry-avro';
import avro from 'avsc';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { duckDbForTests, writeParquetSegment } from '../../../test/parquet-segment.ts';
import { parquetColumns, readParquet } from '../../../test/read-back.ts';
import {
  type RegistryDouble,
  startRegistryDouble,
  staticCredential,
} from '../../../test/schema-registry-double.ts';
import type { DeadLetterRecord } from '../../pipeline/dead-letter.ts';
import type { SourceEvent } from '../../pipeline/event.ts';
import type { SegmentResult } from '../format.ts';
import { RegistryAvroDecoder, schemaRegistryClient } from './avro-decoder.ts';
import { SchemaTracker } from './schema-tracker.ts';

const duck = duckDbForTests('hubcap-avro-registry-');
let registry: RegistryDouble;
let producer: AvroSerializer;

beforeAll(async () => {
  registry = await startRegistryDouble();
  const client = new SchemaRegistryClient(`https://${registry.host}`, staticCredential, {
    tlsOptions: { ca: registry.ca },
  });
  producer = new AvroSerializer(client, { groupName: 'orders', autoRegisterSchemas: true });
});
afterAll(async () => {
  await registry.close();
});

function decoder(events: { errors: string[] } = { errors: [] }, groupName?: string): RegistryAvroDecoder {
  return new RegistryAvroDecoder({
    ...(groupName ? { groupName } : {}),
    client: schemaRegistryClient({
      fullyQualifiedNamespace: registry.host,
      credential: staticCredential,
      clientOptions: { tlsOptions: { ca: registry.ca }, retryOptions: { maxRetries: 0 } },
    }),
    backoff: { baseMs: 20, maxMs: 100 },
    onRegistryError: (error) => events.errors.push(error.message),
  });
}

const V1 = JSON.stringify({
  type: 'record',
  name: 'Order',
  namespace: 'com.example',
  fields: [
    { name: 'id', type: 'long' },
    { name: 'amount', type: 'double' },
    { name: 'customer', type: ['null', 'string'], default: null },
    { name: 'tags', type: { type: 'array', items: 'string' } },
    { name: 'counts', type: { type: 'map', values: 'int' } },
    { name: 'status', type: { type: 'enum', name: 'Status', symbols: ['NEW', 'PAID'] } },
    { name: 'raw', type: 'bytes' },
    { name: 'at', type: { type: 'long', logicalType: 'timestamp-millis' } },
    {
      name: 'address',
      type: {
        type: 'record',
        name: 'Address',
        fields: [
          { name: 'city', type: 'string' },
          { name: 'zip', type: ['null', 'string'], default: null },
        ],
      },
    },
  ],
});
const V2 = JSON.stringify({
  ...JSON.parse(V1),
  fields: [...JSON.parse(V1).fields, { name: 'coupon', type: ['null', 'string'], default: null }],
});

const base = Date.UTC(2026, 2, 7, 9, 0, 0);
async function avroEvent(seq: number, value: unknown, schema: string): Promise<SourceEvent> {
  const message = await producer.serialize(value, schema);
  return {
    body: Buffer.from(message.data),
    contentType: message.contentType,
    sequenceNumber: seq,
    offset: String(seq * 10),
    enqueuedTimeUtc: new Date(base + seq),
  };
}

let fileNo = 0;
async function encode(
  decode: RegistryAvroDecoder,
  events: SourceEvent[],
  tracker = new SchemaTracker(),
): Promise<{ path: string; deadLetters: DeadLetterRecord[]; result: SegmentResult }> {
  const path = join(duck.dir, `f${++fileNo}.parquet`);
  const options = { engine: duck.engine, tracker, maxBodyBytes: 1 << 20, decoder: decode };
  const { deadLetters, result } = await writeParquetSegment(options, [events], path);
  return { path, deadLetters, result };
}

const order = (id: number, extra: Record<string, unknown> = {}) => ({
  id,
  amount: id + 2,
  customer: id % 2 === 0 ? `c${id}` : null,
  tags: ['a', `t${id}`],
  counts: { x: id },
  status: id % 2 === 0 ? 'PAID' : 'NEW',
  raw: Buffer.from([id, 255]),
  at: new Date(base + id * 1000),
  address: { city: 'Oslo', zip: null },
  ...extra,
});

describe('Avro via Azure Schema Registry (real SDK client and serializer, registry double)', () => {
  it('writes decoded records as Parquet columns typed by the registered schema; a new version adds a column', async () => {
    const decode = decoder();
    const fetchesBefore = registry.fetches;
    const events = [
      await avroEvent(0, order(1), V1),
      await avroEvent(1, order(2), V1),
      await avroEvent(2, order(3, { coupon: 'SPRING' }), V2),
      await avroEvent(3, order(4, { coupon: null }), V2),
      await avroEvent(4, order(5), V1),
    ];
    const tracker = new SchemaTracker();
    const { path, result, deadLetters } = await encode(decode, events, tracker);
    expect(deadLetters).toEqual([]);
    expect(result.rows).toBe(5);
    // Each schema id fetched once, then served from the cache.
    expect(registry.fetches - fetchesBefore).toBe(2);
    expect(await parquetColumns(path)).toMatchObject({
      id: 'BIGINT',
      amount: 'DOUBLE', // declared double, though every value here is a whole number
      customer: 'VARCHAR',
      tags: 'VARCHAR[]',
      counts: 'MAP(VARCHAR, BIGINT)',
      status: 'VARCHAR',
      raw: 'VARCHAR',
      at: 'VARCHAR',
      address: 'STRUCT(city VARCHAR, zip VARCHAR)',
      coupon: 'VARCHAR',
    });
    const rows = await readParquet([path], {
      select: 'id, amount, customer, tags, counts, status, raw, "at", address, coupon, _eh_sequence_number',
    });
    expect(rows).toEqual(
      [1, 2, 3, 4, 5].map((id, i) => ({
        id: String(id),
        amount: id + 2,
        customer: id % 2 === 0 ? `c${id}` : null,
        tags: ['a', `t${id}`],
        counts: [{ key: 'x', value: String(id) }],
        status: id % 2 === 0 ? 'PAID' : 'NEW',
        raw: Buffer.from([id, 255]).toString('base64'),
        at: new Date(base + id * 1000).toISOString(),
        address: { city: 'Oslo', zip: null },
        coupon: id === 3 ? 'SPRING' : null,
        _eh_sequence_number: String(i),
      })),
    );
    // A later file with only v1 events keeps the column the v2 schema added (running schema).
    const later = await encode(decode, [await avroEvent(5, order(6), V1)], tracker);
    expect(await parquetColumns(later.path)).toHaveProperty('coupon', 'VARCHAR');
    decode.close();
  });

  it('dead-letters undecodable events (unknown schema id, corrupt bytes, wrong or missing content type) as undecodable-avro', async () => {
    const decode = decoder();
    const good = await avroEvent(0, order(1), V1);
    const corrupt = { ...(await avroEvent(2, order(2), V1)), sequenceNumber: 2 };
    corrupt.body = (corrupt.body as Buffer).subarray(0, 5);
    const events: SourceEvent[] = [
      good,
      { ...good, sequenceNumber: 1, contentType: 'avro/binary+0123456789abcdef0123456789abcdef' },
      corrupt,
      { ...good, sequenceNumber: 3, contentType: 'application/json', body: Buffer.from('{"id":1}') },
      { ...good, sequenceNumber: 4, contentType: undefined },
      { ...(await avroEvent(5, order(5), V2)), sequenceNumber: 5 },
    ];
    const { path, result, deadLetters } = await encode(decode, events);
    expect(result.rows).toBe(2);
    expect(result.deadLetterKinds).toEqual({ 'undecodable-avro': 4 });
    expect(deadLetters.map((d) => [d.sequenceNumber, d.reason])).toEqual([
      [1, 'undecodable-avro'],
      [2, 'undecodable-avro'],
      [3, 'undecodable-avro'],
      [4, 'undecodable-avro'],
    ]);
    expect(deadLetters[0]!.detail).toMatch(/0123456789abcdef0123456789abcdef is not in the registry \(404/);
    expect(deadLetters[0]!.contentType).toBe('avro/binary+0123456789abcdef0123456789abcdef');
    expect(deadLetters[1]!.detail).toMatch(/Avro deserialization failed/);
    expect(deadLetters[2]!.detail).toMatch(/content type "application\/json" is not avro\/binary/);
    expect(deadLetters[3]!.detail).toMatch(/no content type/);
    // The raw bytes are kept, exactly as received.
    expect(Buffer.from(deadLetters[1]!.bodyBase64, 'base64')).toEqual(corrupt.body);
    expect(await readParquet([path], { select: 'id' })).toEqual([{ id: '1' }, { id: '5' }]);
    decode.close();
  });

  it('a long beyond ±2^53 cannot be decoded by the SDK serializer: the event is a dead letter, its bytes kept', async () => {
    const decode = decoder();
    const schema = JSON.stringify({ type: 'record', name: 'Wide', fields: [{ name: 'id', type: 'long' }] });
    const small = await avroEvent(0, { id: 1 }, schema);
    // A producer with 64-bit longs (avsc with a bigint long type) writes 2^53 + 1 for the same schema.
    const BigLong = avro.types.LongType.__with({
      fromBuffer: (b: Buffer) => b.readBigInt64LE(),
      toBuffer: (n: bigint) => {
        const b = Buffer.alloc(8);
        b.writeBigInt64LE(n);
        return b;
      },
      fromJSON: BigInt,
      toJSON: Number,
      isValid: (n: unknown) => typeof n === 'bigint',
      compare: (a: bigint, b: bigint) => (a === b ? 0 : a < b ? -1 : 1),
    });
    const wide = avro.Type.forSchema(JSON.parse(schema), { registry: { long: BigLong } });
    const big: SourceEvent = { ...small, sequenceNumber: 1, body: wide.toBuffer({ id: 2n ** 53n + 1n }) };
    const { result, deadLetters } = await encode(decode, [small, big]);
    expect(result.rows).toBe(1);
    expect(deadLetters.map((d) => [d.sequenceNumber, d.reason])).toEqual([[1, 'undecodable-avro']]);
    expect(deadLetters[0]!.detail).toMatch(/precision loss/);
    expect(Buffer.from(deadLetters[0]!.bodyBase64, 'base64')).toEqual(big.body);
    decode.close();
  });

  it('with a schema group configured, schemas of other groups are dead letters', async () => {
    const decode = decoder(undefined, 'payments');
    const { result, deadLetters } = await encode(decode, [await avroEvent(0, order(1), V1)]);
    expect(result).toMatchObject({ rows: 0, deadLettered: 1 });
    expect(deadLetters[0]!.detail).toMatch(/belongs to group "orders", not to the configured "payments"/);
    const same = decoder(undefined, 'ORDERS');
    expect((await encode(same, [await avroEvent(0, order(1), V1)])).result.rows).toBe(1);
    decode.close();
    same.close();
  });

  for (const outage of ['unavailable', 'reset'] as const) {
    it(`registry down (${outage === 'unavailable' ? '503' : 'connection reset'}): events wait and are retried, none is dead-lettered`, async () => {
      const seen = { errors: [] as string[] };
      const decode = decoder(seen);
      const schema = JSON.stringify({
        type: 'record',
        name: `Outage${outage}`,
        fields: [{ name: 'n', type: 'int' }],
      });
      const events = await Promise.all([1, 2, 3].map((n) => avroEvent(n, { n }, schema)));
      registry.outage = outage;
      const encoding = encode(decode, events);
      for (let i = 0; seen.errors.length < 3 && i < 200; i++) await new Promise((r) => setTimeout(r, 20));
      expect(seen.errors.length).toBeGreaterThanOrEqual(3);
      registry.outage = null;
      const { path, result, deadLetters } = await encoding;
      expect(deadLetters).toEqual([]);
      expect(result.rows).toBe(3);
      expect(await readParquet([path], { select: 'n' })).toEqual([{ n: '1' }, { n: '2' }, { n: '3' }]);
      decode.close();
    });
  }

  it('a registry connection that never answers times out and is retried as an outage, none is dead-lettered', async () => {
    // A TCP relay in front of the registry double: while `hang` is set it accepts connections and
    // never answers (not even the TLS handshake), like a dead peer behind a load balancer.
    let hang = true;
    const held = new Set<Socket>();
    const relay = createServer((socket) => {
      held.add(socket);
      socket.on('close', () => held.delete(socket));
      socket.on('error', () => {});
      if (hang) return;
      const upstream = connect(Number(registry.host.split(':')[1]), '127.0.0.1');
      upstream.on('error', () => socket.destroy());
      socket.pipe(upstream).pipe(socket);
    });
    await new Promise<void>((r) => relay.listen(0, '127.0.0.1', r));
    const errors: string[] = [];
    const decode = new RegistryAvroDecoder({
      client: schemaRegistryClient({
        fullyQualifiedNamespace: `127.0.0.1:${(relay.address() as AddressInfo).port}`,
        credential: staticCredential,
        clientOptions: { tlsOptions: { ca: registry.ca }, retryOptions: { maxRetries: 0 } },
      }),
      timeoutMs: 200,
      backoff: { baseMs: 20, maxMs: 100 },
      onRegistryError: (error) => errors.push(error.message),
    });
    try {
      const schema = JSON.stringify({ type: 'record', name: 'Hang', fields: [{ name: 'n', type: 'int' }] });
      const events = await Promise.all([1, 2].map((n) => avroEvent(n, { n }, schema)));
      const encoding = encode(decode, events);
      while (errors.length < 2) await new Promise((r) => setTimeout(r, 20));
      expect(errors.slice(0, 2)).toEqual([
        'schema registry: no answer within 200 ms',
        'schema registry: no answer within 200 ms',
      ]);
      hang = false;
      const { path, result, deadLetters } = await encoding;
      expect(deadLetters).toEqual([]);
      expect(result.rows).toBe(2);
      expect(await readParquet([path], { select: 'n' })).toEqual([{ n: '1' }, { n: '2' }]);
    } finally {
      decode.close();
      for (const socket of held) socket.destroy();
      await new Promise((r) => relay.close(r));
    }
  });

  it('stopping while the registry is down fails the file (replayed later) instead of dead-lettering', async () => {
    const decode = decoder();
    const schema = JSON.stringify({ type: 'record', name: 'Stop', fields: [{ name: 'n', type: 'int' }] });
    const events = [await avroEvent(1, { n: 1 }, schema)];
    registry.outage = 'unavailable';
    try {
      const encoding = encode(decode, events);
      setTimeout(() => decode.close(), 100);
      await expect(encoding).rejects.toThrow(/closed/);
    } finally {
      registry.outage = null;
    }
  });

  it('the double checks the bearer token, like the service', async () => {
    const client = new SchemaRegistryClient(
      `https://${registry.host}`,
      { getToken: async () => ({ token: 'wrong', expiresOnTimestamp: Date.now() + 60_000 }) },
      { tlsOptions: { ca: registry.ca }, retryOptions: { maxRetries: 0 } },
    );
    await expect(client.getSchema('anything')).rejects.toMatchObject({ statusCode: 401 });
  });
});
