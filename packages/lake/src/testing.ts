import { buildPartitionManifest, manifestBytes } from '@hubcap/shared';

/**
 * For tests: the bytes of a partition manifest of an hourly window starting at `start`, with one data
 * file over `first`..`last` (dead letters: none) and these ranges lost at source.
 */
export function oneFileManifest(options: {
  topic: string;
  partition: string;
  start: number;
  first: number;
  last: number;
  lost?: [number, number][];
}): Buffer {
  const { topic, partition, start, first, last } = options;
  return manifestBytes(
    buildPartitionManifest({
      topic,
      partition,
      window: { start, end: start + 3600_000 },
      files: [
        {
          path: 'x',
          kind: 'data',
          bytes: 1,
          md5: null,
          firstSequence: first,
          lastSequence: last,
          events: last - first + 1,
        },
      ],
      lostAtSource: (options.lost ?? []).map(([firstSequence, lastSequence]) => ({
        firstSequence,
        lastSequence,
      })),
    }),
  );
}
