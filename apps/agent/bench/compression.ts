/** Measures NDJSON compression levels on 1 KB JSON events: MB/s of input per core and ratio. */
import { constants, gzipSync, zstdCompressSync } from 'node:zlib';
import { jsonEvent } from './events.ts';

export interface CompressionRow {
  codec: string;
  mbPerSecond: number;
  ratio: number;
}

export function measureCompression(totalMiB = 64): CompressionRow[] {
  const lines: Buffer[] = [];
  let size = 0;
  for (let i = 0; size < totalMiB * 1024 * 1024; i++) {
    const line = Buffer.concat([jsonEvent(i, 1024), Buffer.from('\n')]);
    lines.push(line);
    size += line.byteLength;
  }
  const chunks: Buffer[] = [];
  for (let i = 0; i < lines.length; i += 1000) chunks.push(Buffer.concat(lines.slice(i, i + 1000)));
  const codecs: [string, (b: Buffer) => Buffer][] = [
    ['gzip-1', (b) => gzipSync(b, { level: 1 })],
    ['gzip-3', (b) => gzipSync(b, { level: 3 })],
    ['gzip-6', (b) => gzipSync(b, { level: 6 })],
    ['zstd-1', (b) => zstdCompressSync(b, { params: { [constants.ZSTD_c_compressionLevel]: 1 } })],
    ['zstd-3', (b) => zstdCompressSync(b, { params: { [constants.ZSTD_c_compressionLevel]: 3 } })],
  ];
  return codecs.map(([codec, compress]) => {
    const started = process.cpuUsage();
    let out = 0;
    for (const chunk of chunks) out += compress(chunk).byteLength;
    const cpu = process.cpuUsage(started);
    const seconds = (cpu.user + cpu.system) / 1e6;
    return { codec, mbPerSecond: size / 1e6 / seconds, ratio: size / out };
  });
}

if (import.meta.url === `file://${process.argv[1]}`) console.table(measureCompression());
