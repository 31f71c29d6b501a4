import rhea from 'rhea';
import { describe, expect, it } from 'vitest';
import { encodeRuntimeInfo, parseIncoming, stampEvent } from './amqp-codec.ts';
import { BATCH_MESSAGE_FORMAT } from './constants.ts';

type Decoded = {
  durable?: boolean;
  message_annotations?: Record<string, unknown>;
  delivery_annotations?: Record<string, unknown>;
  application_properties?: Record<string, unknown>;
  content_type?: string;
  body?: unknown;
};
const decode = (b: Buffer) => rhea.message.decode(b) as unknown as Decoded;

describe('amqp codec', () => {
  const inner = rhea.message.encode({
    durable: true,
    message_annotations: { 'x-opt-partition-key': 'k1', 'x-custom': 'kept' },
    application_properties: { n: 1, s: 'x' },
    content_type: 'application/json',
    body: rhea.message.data_section(Buffer.from('{"a":1}')),
  } as never);

  it('splits a batch envelope into its events and reads the envelope partition key', () => {
    const envelope = rhea.message.encode({
      message_annotations: { 'x-opt-partition-key': 'k1' },
      body: rhea.message.data_sections([inner, inner]),
    } as never);
    const batch = parseIncoming(envelope, BATCH_MESSAGE_FORMAT, BATCH_MESSAGE_FORMAT);
    expect(batch.partitionKey).toBe('k1');
    expect(batch.events).toEqual([inner, inner]);
    expect(parseIncoming(inner, 0, BATCH_MESSAGE_FORMAT).events).toEqual([inner]);
  });

  it('stamps broker annotations, keeps user annotations and every other section byte for byte', () => {
    const stamped = stampEvent(inner, 12, '3456', 1_700_000_000_123, undefined);
    const m = decode(stamped.bytes);
    expect(m.message_annotations).toEqual({
      'x-opt-sequence-number': 12,
      'x-opt-offset': '3456',
      'x-opt-enqueued-time': new Date(1_700_000_000_123),
      'x-opt-partition-key': 'k1',
      'x-custom': 'kept',
    });
    expect(m.durable).toBe(true);
    expect(m.application_properties).toEqual({ n: 1, s: 'x' });
    expect(m.content_type).toBe('application/json');
    expect(stamped.bytes.subarray(stamped.bytes.length - 10).toString()).toContain('{"a":1}');
  });

  it('splices runtime metrics as delivery annotations after the header', () => {
    const stamped = stampEvent(inner, 1, '0', 5, undefined);
    const da = encodeRuntimeInfo({
      lastSequenceNumber: 9,
      lastOffset: '77',
      lastEnqueuedTime: 6,
      retrievalTime: 7,
    });
    const spliced = Buffer.concat([
      stamped.bytes.subarray(0, stamped.headerLength),
      da,
      stamped.bytes.subarray(stamped.headerLength),
    ]);
    const m = decode(spliced);
    expect(m.delivery_annotations).toEqual({
      last_enqueued_sequence_number: 9,
      last_enqueued_offset: '77',
      last_enqueued_time_utc: new Date(6),
      runtime_info_retrieval_time_utc: new Date(7),
    });
    expect(m.message_annotations?.['x-opt-sequence-number']).toBe(1);
  });
});
