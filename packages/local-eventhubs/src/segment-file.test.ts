import {
  appendFileSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  truncateSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import rhea from 'rhea';
import { afterEach, describe, expect, it } from 'vitest';
import { PartitionLog } from './partition-log.ts';
import { decodeRecords, encodeRecords, type StoredRecord } from './segment-file.ts';

const record = (n: number, size = 20): StoredRecord => ({
  sequenceNumber: n,
  offset: n * 100,
  enqueuedTime: 1_700_000_000_000 + n,
  headerLength: 0,
  message: Buffer.alloc(size, n % 256),
});

const event = (body: string): Buffer =>
  rhea.message.encode({ body: rhea.message.data_section(Buffer.from(body)) });

describe('segment records', () => {
  it('round-trips records', () => {
    const records = [record(0), record(1, 300), record(2, 0)];
    const { records: back, validLength } = decodeRecords(encodeRecords(records));
    expect(validLength).toBe(encodeRecords(records).length);
    expect(back).toEqual(records);
  });

  it('stops at a torn tail: a cut-off record or a checksum mismatch', () => {
    const bytes = encodeRecords([record(0), record(1), record(2)]);
    const twoLength = encodeRecords([record(0), record(1)]).length;
    for (let cut = twoLength; cut < bytes.length; cut += 7) {
      const { records, validLength } = decodeRecords(bytes.subarray(0, cut));
      expect(records.map((r) => r.sequenceNumber)).toEqual([0, 1]);
      expect(validLength).toBe(twoLength);
    }
    const corrupt = Buffer.from(bytes);
    corrupt[corrupt.length - 3] = corrupt[corrupt.length - 3]! ^ 0xff;
    expect(decodeRecords(corrupt).records).toHaveLength(2);
  });
});

describe('PartitionLog persistence', () => {
  const dirs: string[] = [];
  const tempDir = () => {
    const d = mkdtempSync(join(tmpdir(), 'hubcap-leh-log-'));
    dirs.push(d);
    return d;
  };
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it('reloads events with their sequence numbers, offsets and times', () => {
    const dir = tempDir();
    const log = new PartitionLog('0', {}, dir);
    log.append([event('a'), event('b')], undefined, 1000);
    log.append([event('c')], 'key', 2000);
    const before = [0, 1, 2].map((s) => Buffer.from(log.read(s)!.bytes));
    const last = log.lastEnqueued();
    log.close();

    const again = new PartitionLog('0', {}, dir);
    expect(again.endSequenceNumber).toBe(3);
    expect(again.lastEnqueued()).toEqual(last);
    expect([0, 1, 2].map((s) => again.read(s)!.bytes)).toEqual(before);
    again.append([event('d')], undefined, 3000);
    expect(again.lastEnqueued().sequenceNumber).toBe(3);
    again.close();
  });

  it('ignores and truncates a torn tail left by a crash, then appends after good data', () => {
    const dir = tempDir();
    const log = new PartitionLog('0', {}, dir);
    log.append([event('a'), event('b'), event('c')], undefined, 1000);
    log.close();
    const [file] = readdirSync(dir);
    const path = join(dir, file!);
    const goodSize = statSync(path).size;
    // A crash in the middle of the next write: half a record.
    const torn = encodeRecords([record(3, 500)]).subarray(0, 200);
    appendFileSync(path, torn);

    const reloaded = new PartitionLog('0', {}, dir);
    expect(reloaded.endSequenceNumber).toBe(3);
    expect(statSync(path).size).toBe(goodSize);
    reloaded.append([event('d')], undefined, 2000);
    reloaded.close();
    const { records, validLength } = decodeRecords(readFileSync(path));
    expect(records.map((r) => r.sequenceNumber)).toEqual([0, 1, 2, 3]);
    expect(validLength).toBe(statSync(path).size);

    truncateSync(path, goodSize - 1);
    const cut = new PartitionLog('0', {}, dir);
    expect(cut.endSequenceNumber).toBe(2);
    cut.close();
  });

  it('applies retention by count and by age', () => {
    const byCount = new PartitionLog('0', { maxEvents: 2 });
    byCount.append([event('a'), event('b'), event('c')], undefined, 1000);
    expect(byCount.beginSequenceNumber).toBe(1);
    expect(byCount.read(0)).toBeUndefined();
    expect(byCount.read(1)).toBeDefined();
    expect(byCount.resolveStart({ kind: 'offset', offset: '-1', inclusive: false })).toBe(1);

    const byAge = new PartitionLog('0', { maxAgeMs: 1000 });
    byAge.append([event('old')], undefined, 1000);
    byAge.append([event('new')], undefined, 5000);
    expect(byAge.beginSequenceNumber).toBe(1);
    byAge.applyRetention(10_000);
    expect(byAge.isEmpty).toBe(true);
    expect(byAge.lastEnqueued().sequenceNumber).toBe(1);
  });

  it('keeps many events compactly and reads them back across slabs', () => {
    const log = new PartitionLog('0', {});
    const body = 'x'.repeat(1000);
    for (let i = 0; i < 20; i++)
      log.append(
        Array.from({ length: 500 }, () => event(body)),
        undefined,
        i,
      );
    expect(log.size).toBe(10_000);
    const lastMessage = rhea.message.decode(log.read(9_999)!.bytes) as unknown as {
      message_annotations: Record<string, unknown>;
    };
    expect(lastMessage.message_annotations['x-opt-sequence-number']).toBe(9_999);
    expect(log.read(9_999)!.bytes.includes(Buffer.from(body))).toBe(true);
    expect(log.resolveStart({ kind: 'sequence-number', sequenceNumber: 5000, inclusive: true })).toBe(5000);
    const offset = log.lastEnqueued().offset;
    expect(log.resolveStart({ kind: 'offset', offset, inclusive: true })).toBe(9_999);
  });
});
