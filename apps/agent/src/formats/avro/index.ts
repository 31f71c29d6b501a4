import type { Format as FormatConfig } from '@hubcap/shared';
import type { Format } from '../format.ts';
import { AvroContainerEncoder } from './avro.ts';

type AvroConfig = Extract<FormatConfig, { type: 'avro' }>;

/** Avro object container files in Event Hubs Capture's schema; every body is written as bytes. */
export const avro: Format<AvroConfig> = {
  extension: () => '.avro',
  contentType: () => 'avro/binary',
  spillsToDisk: false,
  deadLetters: () => false,
  encoder: (config) => (ctx) => [new AvroContainerEncoder({ codec: config.codec }, ctx)],
  start: async () => ({ options: {}, close() {} }),
};
