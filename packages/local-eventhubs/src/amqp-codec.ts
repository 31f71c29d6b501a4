/**
 * Byte-level handling of AMQP 1.0 messages. The server never decodes event bodies or properties:
 * it splits a message into its sections, swaps the message-annotations section for one carrying
 * the broker annotations, and keeps the result as bytes, so delivery is a plain copy.
 */

const SECTION_HEADER = 0x70;
const SECTION_DELIVERY_ANNOTATIONS = 0x71;
const SECTION_MESSAGE_ANNOTATIONS = 0x72;
const SECTION_DATA = 0x75;

export class AmqpDecodeError extends Error {
  override name = 'AmqpDecodeError';
}

/** Returns the position just after the AMQP value that starts at `pos`. */
export function skipValue(buf: Buffer, pos: number): number {
  const code = buf[pos];
  if (code === undefined) throw new AmqpDecodeError('unexpected end of message');
  pos += 1;
  if (code === 0x00) {
    // Described type: descriptor, then the value.
    return skipValue(buf, skipValue(buf, pos));
  }
  const width = code >> 4;
  let end: number;
  switch (width) {
    case 0x4:
      end = pos;
      break;
    case 0x5:
      end = pos + 1;
      break;
    case 0x6:
      end = pos + 2;
      break;
    case 0x7:
      end = pos + 4;
      break;
    case 0x8:
      end = pos + 8;
      break;
    case 0x9:
      end = pos + 16;
      break;
    case 0xa:
    case 0xc:
    case 0xe:
      if (pos >= buf.length) throw new AmqpDecodeError('unexpected end of message');
      end = pos + 1 + buf[pos]!;
      break;
    case 0xb:
    case 0xd:
    case 0xf:
      if (pos + 4 > buf.length) throw new AmqpDecodeError('unexpected end of message');
      end = pos + 4 + buf.readUInt32BE(pos);
      break;
    default:
      throw new AmqpDecodeError(`unknown AMQP type code 0x${code.toString(16)}`);
  }
  if (end > buf.length) throw new AmqpDecodeError('unexpected end of message');
  return end;
}

interface Section {
  code: number;
  start: number;
  /** Where the section's value starts (after the descriptor). */
  valueStart: number;
  end: number;
}

function readSectionCode(buf: Buffer, pos: number): { code: number; valueStart: number } {
  if (buf[pos] !== 0x00) throw new AmqpDecodeError('message section is not a described type');
  const ctor = buf[pos + 1];
  if (ctor === 0x53) {
    const code = buf[pos + 2];
    if (code === undefined) throw new AmqpDecodeError('unexpected end of message');
    return { code, valueStart: pos + 3 };
  }
  if (ctor === 0x80) {
    if (pos + 10 > buf.length) throw new AmqpDecodeError('unexpected end of message');
    // Section descriptors are 0x00000000:0x000000XX.
    return { code: buf.readUInt32BE(pos + 6), valueStart: pos + 10 };
  }
  throw new AmqpDecodeError('message section descriptor is not an ulong');
}

export function splitSections(buf: Buffer): Section[] {
  const sections: Section[] = [];
  let pos = 0;
  while (pos < buf.length) {
    const { code, valueStart } = readSectionCode(buf, pos);
    const end = skipValue(buf, valueStart);
    sections.push({ code, start: pos, valueStart, end });
    pos = end;
  }
  return sections;
}

/** Payload bytes of a binary value at `pos` (vbin8 or vbin32). */
function readBinary(buf: Buffer, pos: number): Buffer {
  const code = buf[pos];
  if (code === 0xa0) return buf.subarray(pos + 2, pos + 2 + buf[pos + 1]!);
  if (code === 0xb0) return buf.subarray(pos + 5, pos + 5 + buf.readUInt32BE(pos + 1));
  throw new AmqpDecodeError('data section does not hold binary');
}

/** Reads a string or symbol value; returns undefined for other types. */
function readStringLike(buf: Buffer, pos: number): string | undefined {
  const code = buf[pos];
  if (code === 0xa1 || code === 0xa3) return buf.toString('utf8', pos + 2, pos + 2 + buf[pos + 1]!);
  if (code === 0xb1 || code === 0xb3) {
    const len = buf.readUInt32BE(pos + 1);
    return buf.toString('utf8', pos + 5, pos + 5 + len);
  }
  return undefined;
}

interface MapEntry {
  key: string | undefined;
  start: number;
  valueStart: number;
  end: number;
}

function mapEntries(buf: Buffer, pos: number): MapEntry[] {
  const code = buf[pos];
  let p: number;
  let count: number;
  if (code === 0xc1) {
    count = buf[pos + 2]!;
    p = pos + 3;
  } else if (code === 0xd1) {
    count = buf.readUInt32BE(pos + 5);
    p = pos + 9;
  } else if (code === 0x40) {
    return [];
  } else {
    throw new AmqpDecodeError('annotations section is not a map');
  }
  const entries: MapEntry[] = [];
  for (let i = 0; i < count; i += 2) {
    const key = readStringLike(buf, p);
    const valueStart = skipValue(buf, p);
    const end = skipValue(buf, valueStart);
    entries.push({ key, start: p, valueStart, end });
    p = end;
  }
  return entries;
}

export const PARTITION_KEY_ANNOTATION = 'x-opt-partition-key';
const BROKER_ANNOTATIONS = new Set([
  'x-opt-sequence-number',
  'x-opt-offset',
  'x-opt-enqueued-time',
  PARTITION_KEY_ANNOTATION,
]);

export interface ReceivedBatch {
  /** One encoded AMQP message per event. */
  events: Buffer[];
  /** Partition key carried by the envelope, if any. */
  partitionKey: string | undefined;
}

function annotationString(buf: Buffer, sections: Section[], name: string): string | undefined {
  const ma = sections.find((s) => s.code === SECTION_MESSAGE_ANNOTATIONS);
  if (!ma) return undefined;
  for (const e of mapEntries(buf, ma.valueStart)) {
    if (e.key === name) return readStringLike(buf, e.valueStart);
  }
  return undefined;
}

/**
 * Splits what a sender link delivered into events: a batch envelope (format 0x80013700) holds one
 * encoded message per data section; any other format is a single event.
 */
export function parseIncoming(payload: Buffer, format: number, batchFormat: number): ReceivedBatch {
  const sections = splitSections(payload);
  const partitionKey = annotationString(payload, sections, PARTITION_KEY_ANNOTATION);
  if (format !== batchFormat) return { events: [payload], partitionKey };
  const events: Buffer[] = [];
  for (const s of sections) {
    if (s.code === SECTION_DATA) events.push(readBinary(payload, s.valueStart));
  }
  return { events, partitionKey };
}

/** Reads the partition key an individual event carries in its own annotations. */
export function eventPartitionKey(event: Buffer): string | undefined {
  return annotationString(event, splitSections(event), PARTITION_KEY_ANNOTATION);
}

// --- encoding -------------------------------------------------------------------------------

function symbolBytes(name: string): Buffer {
  const b = Buffer.from(name, 'utf8');
  return Buffer.concat([Buffer.from([0xa3, b.length]), b]);
}

function stringBytes(value: string): Buffer {
  const b = Buffer.from(value, 'utf8');
  if (b.length < 256) return Buffer.concat([Buffer.from([0xa1, b.length]), b]);
  const head = Buffer.alloc(5);
  head[0] = 0xb1;
  head.writeUInt32BE(b.length, 1);
  return Buffer.concat([head, b]);
}

function int64Bytes(code: number, value: number): Buffer {
  const b = Buffer.alloc(9);
  b[0] = code;
  b.writeBigInt64BE(BigInt(value), 1);
  return b;
}

const SYM_SEQUENCE = symbolBytes('x-opt-sequence-number');
const SYM_OFFSET = symbolBytes('x-opt-offset');
const SYM_ENQUEUED = symbolBytes('x-opt-enqueued-time');
const SYM_PARTITION_KEY = symbolBytes(PARTITION_KEY_ANNOTATION);

function encodeMap(parts: Buffer[], pairCount: number, descriptorCode?: number): Buffer {
  const bodyLen = parts.reduce((n, p) => n + p.length, 0);
  const prefix = descriptorCode === undefined ? 0 : 3;
  const out = Buffer.allocUnsafe(prefix + 9 + bodyLen);
  let p = 0;
  if (descriptorCode !== undefined) {
    out[0] = 0x00;
    out[1] = 0x53;
    out[2] = descriptorCode;
    p = 3;
  }
  out[p] = 0xd1;
  out.writeUInt32BE(bodyLen + 4, p + 1);
  out.writeUInt32BE(pairCount * 2, p + 5);
  p += 9;
  for (const part of parts) {
    part.copy(out, p);
    p += part.length;
  }
  return out;
}

export interface StampedEvent {
  bytes: Buffer;
  /** Length of the header section, where delivery annotations are spliced in. */
  headerLength: number;
}

/**
 * Rewrites one event with the broker annotations the SDK reads on receive. Existing user
 * annotations are kept byte for byte; delivery annotations from the sender are dropped.
 */
export function stampEvent(
  event: Buffer,
  sequenceNumber: number,
  offset: string,
  enqueuedTime: number,
  partitionKey: string | undefined,
): StampedEvent {
  const sections = splitSections(event);
  const before: Buffer[] = [];
  const after: Buffer[] = [];
  const userAnnotations: Buffer[] = [];
  let userPairs = 0;
  let key = partitionKey;
  let seenBody = false;
  for (const s of sections) {
    if (s.code === SECTION_HEADER) {
      before.push(event.subarray(s.start, s.end));
    } else if (s.code === SECTION_DELIVERY_ANNOTATIONS) {
      // dropped: delivery annotations are hop-by-hop
    } else if (s.code === SECTION_MESSAGE_ANNOTATIONS) {
      for (const e of mapEntries(event, s.valueStart)) {
        if (e.key === PARTITION_KEY_ANNOTATION) {
          key ??= readStringLike(event, e.valueStart);
        } else if (e.key === undefined || !BROKER_ANNOTATIONS.has(e.key)) {
          userAnnotations.push(event.subarray(e.start, e.end));
          userPairs++;
        }
      }
    } else {
      seenBody = true;
      after.push(event.subarray(s.start, s.end));
    }
  }
  if (!seenBody && sections.length === 0) throw new AmqpDecodeError('empty message');
  const parts = [
    SYM_SEQUENCE,
    int64Bytes(0x81, sequenceNumber),
    SYM_OFFSET,
    stringBytes(offset),
    SYM_ENQUEUED,
    int64Bytes(0x83, enqueuedTime),
  ];
  let pairs = 3;
  if (key !== undefined) {
    parts.push(SYM_PARTITION_KEY, stringBytes(key));
    pairs++;
  }
  parts.push(...userAnnotations);
  pairs += userPairs;
  const annotations = encodeMap(parts, pairs, SECTION_MESSAGE_ANNOTATIONS);
  const headerLength = before.reduce((n, b) => n + b.length, 0);
  return { bytes: Buffer.concat([...before, annotations, ...after]), headerLength };
}

export interface RuntimeInfo {
  lastSequenceNumber: number;
  lastOffset: string;
  lastEnqueuedTime: number;
  retrievalTime: number;
}

/** Delivery annotations section for receivers that asked for runtime metrics. */
export function encodeRuntimeInfo(info: RuntimeInfo): Buffer {
  return encodeMap(
    [
      symbolBytes('last_enqueued_sequence_number'),
      int64Bytes(0x81, info.lastSequenceNumber),
      symbolBytes('last_enqueued_offset'),
      stringBytes(info.lastOffset),
      symbolBytes('last_enqueued_time_utc'),
      int64Bytes(0x83, info.lastEnqueuedTime),
      symbolBytes('runtime_info_retrieval_time_utc'),
      int64Bytes(0x83, info.retrievalTime),
    ],
    4,
    SECTION_DELIVERY_ANNOTATIONS,
  );
}
