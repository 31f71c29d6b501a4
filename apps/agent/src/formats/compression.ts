import type { Transform } from 'node:stream';
import { constants, createGzip, createZstdCompress } from 'node:zlib';

/** Compression levels, chosen by measurement (bench/compression.ts, see bench/results.md). */
export const GZIP_LEVEL = 1;
export const ZSTD_LEVEL = 3;
const OUTPUT_CHUNK = 256 * 1024;

/** A whole-file compression, for formats whose bytes are compressed as one stream (NDJSON). */
export interface Compression {
  /** Appended to the format's extension. */
  suffix: string;
  /** Replaces the format's content type; null keeps it. */
  contentType: string | null;
  /** A fresh compressor for one file; null: the bytes as they are. */
  create(): Transform | null;
}

export const compressions = {
  gzip: {
    suffix: '.gz',
    contentType: 'application/gzip',
    create: () => createGzip({ level: GZIP_LEVEL, chunkSize: OUTPUT_CHUNK }),
  },
  zstd: {
    suffix: '.zst',
    contentType: 'application/zstd',
    create: () =>
      createZstdCompress({
        chunkSize: OUTPUT_CHUNK,
        params: { [constants.ZSTD_c_compressionLevel]: ZSTD_LEVEL },
      }),
  },
  none: { suffix: '', contentType: null, create: () => null },
} satisfies Record<string, Compression>;
