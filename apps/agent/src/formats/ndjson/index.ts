import type { Format as FormatConfig } from '@hubcap/shared';
import { compressions } from '../compression.ts';
import type { Format } from '../format.ts';
import { NdjsonEncoder, type NdjsonStats } from './ndjson.ts';

type NdjsonConfig = Extract<FormatConfig, { type: 'ndjson' }>;

export interface NdjsonOptions {
  /** Counts bodies rewritten to keep one event per line (read by a Prometheus counter). */
  ndjsonStats?: NdjsonStats;
}

/** One event per line, every line JSON that JSON-lines readers accept; gzip, zstd or none over the file. */
export const ndjson: Format<NdjsonConfig, NdjsonOptions> = {
  extension: (config) => `.ndjson${compressions[config.compression].suffix}`,
  contentType: (config) => compressions[config.compression].contentType ?? 'application/x-ndjson',
  spillsToDisk: false,
  deadLetters: (config) => config.nonJson === 'deadLetter',
  encoder(config, options) {
    const compression = compressions[config.compression];
    const deadLetters = ndjson.deadLetters(config);
    return (ctx) => [
      new NdjsonEncoder(compression.create(), options.ndjsonStats, deadLetters ? ctx : undefined),
    ];
  },
  start: async (_, { metrics }) => ({ options: { ndjsonStats: metrics.ndjsonStats }, close() {} }),
};
