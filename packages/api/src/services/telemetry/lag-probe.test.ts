import { describe, expect, it } from 'vitest';
import { partitionLag } from './lag-probe.ts';

const partition = (over: Partial<Parameters<typeof partitionLag>[0]> = {}) => ({
  partitionId: '0',
  beginningSequenceNumber: 100,
  lastEnqueuedSequenceNumber: 199,
  lastEnqueuedAt: '2026-03-07T10:00:00.000Z',
  isEmpty: false,
  ...over,
});
const checkpoint = (sequenceNumber: number) => ({ sequenceNumber, writtenAt: new Date() });

describe('partitionLag', () => {
  it('counts what the hub holds after the checkpoint', () => {
    expect(partitionLag(partition(), checkpoint(149), 'earliest')).toMatchObject({
      lagEvents: 50,
      firstUnwritten: 150,
    });
    expect(partitionLag(partition(), checkpoint(199), 'earliest')).toMatchObject({
      lagEvents: 0,
      firstUnwritten: null,
    });
  });

  it('without a checkpoint: everything retained from "earliest", nothing from "latest"', () => {
    expect(partitionLag(partition(), null, 'earliest')).toMatchObject({
      lagEvents: 100,
      firstUnwritten: 100,
    });
    expect(partitionLag(partition(), null, 'latest')).toMatchObject({ lagEvents: 0, firstUnwritten: null });
  });

  it('does not count events the hub no longer retains, nor an empty partition', () => {
    expect(partitionLag(partition(), checkpoint(10), 'earliest')).toMatchObject({
      lagEvents: 100,
      firstUnwritten: 100,
    });
    expect(
      partitionLag(
        partition({ isEmpty: true, lastEnqueuedSequenceNumber: -1, lastEnqueuedAt: null }),
        null,
        'earliest',
      ),
    ).toMatchObject({ lagEvents: 0, lastEnqueuedSequenceNumber: null, lastEnqueuedAt: null });
  });

  it('stays exact past 2^31 sequence numbers', () => {
    const big = 2 ** 40;
    expect(
      partitionLag(
        partition({ beginningSequenceNumber: big, lastEnqueuedSequenceNumber: big + 5 }),
        checkpoint(big + 2),
        'earliest',
      ),
    ).toMatchObject({ lagEvents: 3, firstUnwritten: big + 3 });
  });
});
