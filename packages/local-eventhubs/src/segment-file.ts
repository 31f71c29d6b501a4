import {
  closeSync,
  existsSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';

/**
 * Append-only segment files for one partition. Each record is
 *   u32 bodyLength | u32 crc32(body) | body
 * with body = f64 sequenceNumber | f64 offset | f64 enqueuedTime | u16 headerLength | message bytes.
 * A write cut short by a crash leaves a torn tail: the loader stops at the first record whose
 * length or checksum does not hold and truncates the file there.
 */

export interface StoredRecord {
  sequenceNumber: number;
  offset: number;
  enqueuedTime: number;
  headerLength: number;
  message: Buffer;
}

const RECORD_HEAD = 8;
const BODY_HEAD = 26;
const SEGMENT_BYTES = 64 * 1024 * 1024;

export function encodeRecords(records: readonly StoredRecord[]): Buffer {
  let total = 0;
  for (const r of records) total += RECORD_HEAD + BODY_HEAD + r.message.length;
  const out = Buffer.allocUnsafe(total);
  let p = 0;
  for (const r of records) {
    const bodyLength = BODY_HEAD + r.message.length;
    out.writeUInt32LE(bodyLength, p);
    const body = p + RECORD_HEAD;
    out.writeDoubleLE(r.sequenceNumber, body);
    out.writeDoubleLE(r.offset, body + 8);
    out.writeDoubleLE(r.enqueuedTime, body + 16);
    out.writeUInt16LE(r.headerLength, body + 24);
    r.message.copy(out, body + BODY_HEAD);
    out.writeUInt32LE(crc32(out.subarray(body, body + bodyLength)), p + 4);
    p = body + bodyLength;
  }
  return out;
}

/** Decodes records until the end or the first damaged one; `validLength` is where that is. */
export function decodeRecords(buf: Buffer): { records: StoredRecord[]; validLength: number } {
  const records: StoredRecord[] = [];
  let p = 0;
  while (p + RECORD_HEAD <= buf.length) {
    const bodyLength = buf.readUInt32LE(p);
    const body = p + RECORD_HEAD;
    if (bodyLength < BODY_HEAD || body + bodyLength > buf.length) break;
    if (crc32(buf.subarray(body, body + bodyLength)) !== buf.readUInt32LE(p + 4)) break;
    records.push({
      sequenceNumber: buf.readDoubleLE(body),
      offset: buf.readDoubleLE(body + 8),
      enqueuedTime: buf.readDoubleLE(body + 16),
      headerLength: buf.readUInt16LE(body + 24),
      message: buf.subarray(body + BODY_HEAD, body + bodyLength),
    });
    p = body + bodyLength;
  }
  return { records, validLength: p };
}

function segmentName(firstSequenceNumber: number): string {
  return `${String(firstSequenceNumber).padStart(20, '0')}.log`;
}

interface Segment {
  firstSequenceNumber: number;
  path: string;
}

export class SegmentStore {
  readonly dir: string;
  private segments: Segment[] = [];
  private fd: number | undefined;
  private currentSize = 0;

  constructor(dir: string) {
    this.dir = dir;
    mkdirSync(dir, { recursive: true });
  }

  /** Reads every intact record, truncating a torn tail so later appends follow good data. */
  load(onRecords: (records: StoredRecord[]) => void): void {
    const names = readdirSync(this.dir)
      .filter((n) => /^\d{20}\.log$/.test(n))
      .sort();
    for (let i = 0; i < names.length; i++) {
      const path = join(this.dir, names[i]!);
      const buf = readFileSync(path);
      const { records, validLength } = decodeRecords(buf);
      if (validLength < buf.length) {
        const fd = openSync(path, 'r+');
        ftruncateSync(fd, validLength);
        closeSync(fd);
      }
      if (records.length === 0 && validLength === 0) {
        unlinkSync(path);
        continue;
      }
      this.segments.push({ firstSequenceNumber: Number(names[i]!.slice(0, 20)), path });
      this.currentSize = validLength;
      onRecords(records);
      if (validLength < buf.length) {
        // Anything after a damaged record cannot be trusted to follow on in sequence.
        for (const later of names.slice(i + 1)) unlinkSync(join(this.dir, later));
        break;
      }
    }
  }

  append(records: readonly StoredRecord[]): void {
    const first = records[0];
    if (!first) return;
    if (this.fd === undefined || this.currentSize >= SEGMENT_BYTES) {
      if (this.fd !== undefined) closeSync(this.fd);
      const last = this.segments.at(-1);
      if (last === undefined || this.currentSize >= SEGMENT_BYTES) {
        const path = join(this.dir, segmentName(first.sequenceNumber));
        this.segments.push({ firstSequenceNumber: first.sequenceNumber, path });
        this.currentSize = 0;
        this.fd = openSync(path, 'a');
      } else {
        this.fd = openSync(last.path, 'a');
      }
    }
    const bytes = encodeRecords(records);
    // Synchronous write: once it returns the data is in the OS page cache, so it survives the
    // process being killed (accepting the delivery only afterwards).
    writeSync(this.fd, bytes);
    this.currentSize += bytes.length;
  }

  /** Deletes whole segments that hold only events before `beginSequenceNumber`. */
  dropBefore(beginSequenceNumber: number): void {
    while (this.segments.length > 1 && this.segments[1]!.firstSequenceNumber <= beginSequenceNumber) {
      const seg = this.segments.shift()!;
      if (existsSync(seg.path)) unlinkSync(seg.path);
    }
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}
