import type { Duplex } from 'node:stream';
import { constants, createGzip, createZstdCompress } from 'node:zlib';
import type { Format } from '@hubcap/shared';
import { AvroContainerEncoder } from './avro/avro.ts';
import type { SegmentContext } from './format.ts';
import { NdjsonEncoder, type NdjsonStats } from './ndjson/ndjson.ts';
import { ParquetEncoder, type ParquetOptions } from './parquet/parquet.ts';

export type { SegmentContext } from './format.ts';

/**
 * A file format: a chain of streams that turns batches of events (object mode, `SourceEvent[]`) into
 * the bytes of one file, emitted as they are produced so a sink can upload while the file grows
 * (Parquet, which needs its footer, spills rows to local disk and emits the file when it ends).
 */
export interface FileFormat {
  readonly extension: string;
  readonly contentType: string;
  /** Fresh streams for one file; the first takes `SourceEvent[]`, the last emits Buffers. */
  createStreams(ctx: SegmentContext): [Duplex, ...Duplex[]];
}

export class UnsupportedFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnsupportedFormatError';
  }
}

/** Compression levels, chosen by measurement (bench/compression.ts, see bench/results.md). */
export const GZIP_LEVEL = 1;
export const ZSTD_LEVEL = 3;
const OUTPUT_CHUNK = 256 * 1024;

export interface FormatOptions {
  ndjsonStats?: NdjsonStats;
  /** Required for Parquet: the DuckDB engine, the topic's schema tracker and the body size limit. */
  parquet?: Omit<ParquetOptions, 'compression'>;
  gzipLevel?: number;
  zstdLevel?: number;
}

export function createFileFormat(format: Format, options: FormatOptions = {}): FileFormat {
  switch (format.type) {
    case 'ndjson': {
      const stats = options.ndjsonStats;
      const deadLetters = (ctx: SegmentContext) => (format.nonJson === 'deadLetter' ? ctx : undefined);
      switch (format.compression) {
        case 'gzip':
          return {
            extension: '.ndjson.gz',
            contentType: 'application/gzip',
            createStreams: (ctx) => [
              new NdjsonEncoder(
                createGzip({ level: options.gzipLevel ?? GZIP_LEVEL, chunkSize: OUTPUT_CHUNK }),
                stats,
                deadLetters(ctx),
              ),
            ],
          };
        case 'zstd':
          return {
            extension: '.ndjson.zst',
            contentType: 'application/zstd',
            createStreams: (ctx) => [
              new NdjsonEncoder(
                createZstdCompress({
                  chunkSize: OUTPUT_CHUNK,
                  params: { [constants.ZSTD_c_compressionLevel]: options.zstdLevel ?? ZSTD_LEVEL },
                }),
                stats,
                deadLetters(ctx),
              ),
            ],
          };
        case 'none':
          return {
            extension: '.ndjson',
            contentType: 'application/x-ndjson',
            createStreams: (ctx) => [new NdjsonEncoder(null, stats, deadLetters(ctx))],
          };
      }
      break;
    }
    case 'avro':
      return {
        extension: '.avro',
        contentType: 'avro/binary',
        createStreams: (ctx) => [new AvroContainerEncoder({ codec: format.codec }, ctx)],
      };
    case 'parquet': {
      const parquet = options.parquet;
      if (!parquet) throw new Error('Parquet needs a DuckDB engine and a schema tracker');
      return {
        extension: '.parquet',
        contentType: 'application/vnd.apache.parquet',
        createStreams: (ctx) => [new ParquetEncoder({ ...parquet, compression: format.compression }, ctx)],
      };
    }
  }
  throw new UnsupportedFormatError(`unknown format ${JSON.stringify(format)}`);
}
