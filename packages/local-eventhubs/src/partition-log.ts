import { stampEvent } from './amqp-codec.ts';
import type { StartPosition } from './filter.ts';
import { SegmentStore, type StoredRecord } from './segment-file.ts';

export interface Retention {
  /** Keep at most this many events per partition. */
  maxEvents?: number;
  /** Drop events enqueued longer ago than this. */
  maxAgeMs?: number;
}

export class PositionError extends Error {
  override name = 'PositionError';
}

const SLAB_BYTES = 4 * 1024 * 1024;
const INITIAL_CAPACITY = 1024;

/**
 * The events of one partition, kept compactly: encoded messages are packed into 4 MB slabs and a
 * few typed arrays index them (about 30 bytes per event on top of the message itself).
 * Array index i holds sequence number `base + i`; retained events are [begin, count).
 */
export class PartitionLog {
  readonly partitionId: string;
  private base = 0;
  private begin = 0;
  private count = 0;
  private capacity = INITIAL_CAPACITY;
  private offsets = new Float64Array(INITIAL_CAPACITY);
  private times = new Float64Array(INITIAL_CAPACITY);
  private lengths = new Uint32Array(INITIAL_CAPACITY);
  private positions = new Uint32Array(INITIAL_CAPACITY);
  private slabOf = new Uint32Array(INITIAL_CAPACITY);
  private headerLengths = new Uint16Array(INITIAL_CAPACITY);
  private slabs: (Buffer | undefined)[] = [];
  private slabUsed = SLAB_BYTES;
  private nextOffset = 0;
  private lastTime = 0;
  private readonly listeners = new Set<() => void>();
  private readonly store: SegmentStore | undefined;
  private readonly retention: Retention;

  constructor(partitionId: string, retention: Retention, persistDir?: string) {
    this.partitionId = partitionId;
    this.retention = retention;
    if (persistDir) {
      this.store = new SegmentStore(persistDir);
      this.store.load((records) => {
        for (const r of records) this.restore(r);
      });
      this.applyRetention(Date.now());
    }
  }

  /** Sequence number of the first retained event. */
  get beginSequenceNumber(): number {
    return this.base + this.begin;
  }

  /** Sequence number the next event will get. */
  get endSequenceNumber(): number {
    return this.base + this.count;
  }

  get isEmpty(): boolean {
    return this.begin === this.count;
  }

  get size(): number {
    return this.count - this.begin;
  }

  /** Last enqueued event's properties; -1 / "-1" / 0 when nothing was ever enqueued. */
  lastEnqueued(): { sequenceNumber: number; offset: string; enqueuedTime: number } {
    const i = this.count - 1;
    if (i < 0) return { sequenceNumber: -1, offset: '-1', enqueuedTime: 0 };
    return { sequenceNumber: this.base + i, offset: String(this.offsets[i]), enqueuedTime: this.times[i]! };
  }

  /** Appends events (encoded AMQP messages as sent), stamping broker annotations. */
  append(events: readonly Buffer[], partitionKey: string | undefined, now = Date.now()): number {
    const time = Math.max(now, this.lastTime);
    const records: StoredRecord[] | undefined = this.store ? [] : undefined;
    for (const event of events) {
      const sequenceNumber = this.base + this.count;
      const offset = this.nextOffset;
      const stamped = stampEvent(event, sequenceNumber, String(offset), time, partitionKey);
      this.put(offset, time, stamped.bytes, stamped.headerLength);
      records?.push({
        sequenceNumber,
        offset,
        enqueuedTime: time,
        headerLength: stamped.headerLength,
        message: stamped.bytes,
      });
    }
    if (records) this.store!.append(records);
    this.applyRetention(now);
    for (const listener of this.listeners) listener();
    return events.length;
  }

  private restore(r: StoredRecord): void {
    if (this.count === 0 && this.begin === 0 && this.base === 0) this.base = r.sequenceNumber;
    if (r.sequenceNumber !== this.base + this.count) return;
    this.put(r.offset, r.enqueuedTime, Buffer.from(r.message), r.headerLength);
  }

  private put(offset: number, time: number, bytes: Buffer, headerLength: number): void {
    if (this.count === this.capacity) this.grow();
    if (this.slabUsed + bytes.length > SLAB_BYTES) {
      this.slabs.push(Buffer.allocUnsafe(Math.max(SLAB_BYTES, bytes.length)));
      this.slabUsed = 0;
    }
    const slabIndex = this.slabs.length - 1;
    bytes.copy(this.slabs[slabIndex]!, this.slabUsed);
    const i = this.count;
    this.offsets[i] = offset;
    this.times[i] = time;
    this.lengths[i] = bytes.length;
    this.positions[i] = this.slabUsed;
    this.slabOf[i] = slabIndex;
    this.headerLengths[i] = headerLength;
    this.slabUsed += bytes.length;
    this.count++;
    this.nextOffset = offset + bytes.length;
    this.lastTime = time;
  }

  private grow(): void {
    const live = this.count - this.begin;
    // Reclaim the dropped prefix first; only double when at least half the array is live.
    const capacity = live * 2 > this.capacity ? this.capacity * 2 : this.capacity;
    const move = <T extends Float64Array | Uint32Array | Uint16Array>(a: T, make: (n: number) => T): T => {
      const next = capacity === this.capacity ? a : make(capacity);
      next.set(a.subarray(this.begin, this.count));
      return next;
    };
    this.offsets = move(this.offsets, (n) => new Float64Array(n));
    this.times = move(this.times, (n) => new Float64Array(n));
    this.lengths = move(this.lengths, (n) => new Uint32Array(n));
    this.positions = move(this.positions, (n) => new Uint32Array(n));
    this.slabOf = move(this.slabOf, (n) => new Uint32Array(n));
    this.headerLengths = move(this.headerLengths, (n) => new Uint16Array(n));
    this.base += this.begin;
    this.count = live;
    this.begin = 0;
    this.capacity = capacity;
  }

  applyRetention(now: number): void {
    const { maxEvents, maxAgeMs } = this.retention;
    let begin = this.begin;
    if (maxEvents !== undefined && this.count - begin > maxEvents) begin = this.count - maxEvents;
    if (maxAgeMs !== undefined) {
      const cutoff = now - maxAgeMs;
      while (begin < this.count && this.times[begin]! < cutoff) begin++;
    }
    if (begin === this.begin) return;
    this.begin = begin;
    // Free slabs that no retained event points into.
    const firstSlab = begin < this.count ? this.slabOf[begin]! : this.slabs.length - 1;
    for (let s = 0; s < firstSlab; s++) this.slabs[s] = undefined;
    this.store?.dropBefore(this.base + begin);
  }

  /** Resolves a filter to the sequence number delivery starts at. */
  resolveStart(position: StartPosition): number {
    const end = this.endSequenceNumber;
    if (position.kind === 'sequence-number') {
      const seq = position.sequenceNumber + (position.inclusive ? 0 : 1);
      if (seq > end) {
        throw new PositionError(
          `The supplied sequence number '${position.sequenceNumber}' is invalid. The last sequence number in the system is '${end - 1}'.`,
        );
      }
      return Math.max(seq, this.beginSequenceNumber);
    }
    if (position.kind === 'offset') {
      if (position.offset === '@latest') return end;
      const offset = Number(position.offset);
      if (offset < 0) return this.beginSequenceNumber;
      if (offset > this.nextOffset) {
        throw new PositionError(
          `The supplied offset '${position.offset}' is invalid. The last offset in the system is '${this.lastEnqueued().offset}'.`,
        );
      }
      // First index whose offset is > (or >=) the given one.
      const i = this.lowerBound(this.offsets, offset, position.inclusive);
      return this.base + i;
    }
    const i = this.lowerBound(this.times, position.enqueuedTime, position.inclusive);
    return this.base + i;
  }

  private lowerBound(a: Float64Array, value: number, inclusive: boolean): number {
    let lo = this.begin;
    let hi = this.count;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const v = a[mid]!;
      if (inclusive ? v < value : v <= value) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** The stored message for a sequence number, or undefined when it is not (or no longer) held. */
  read(sequenceNumber: number): { bytes: Buffer; headerLength: number } | undefined {
    const i = sequenceNumber - this.base;
    if (i < this.begin || i >= this.count) return undefined;
    const slab = this.slabs[this.slabOf[i]!]!;
    const pos = this.positions[i]!;
    return { bytes: slab.subarray(pos, pos + this.lengths[i]!), headerLength: this.headerLengths[i]! };
  }

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  close(): void {
    this.store?.close();
  }
}
