import type { Format as FormatConfig } from '@hubcap/shared';
import { avro } from './avro/index.ts';
import type { FileFormat, Format, FormatStart } from './format.ts';
import { type NdjsonOptions, ndjson } from './ndjson/index.ts';
import { type ParquetFormatOptions, parquet } from './parquet/index.ts';

export type {
  FileFormat,
  Format,
  FormatStart,
  SegmentContext,
  SegmentResult,
  StateLocation,
} from './format.ts';
export { newSegmentResult, UnwritableError } from './format.ts';

/** Every format, by `TopicConfig.format.type`: a new format is a folder and a line here. */
const formats: { [T in FormatConfig['type']]: Format<Extract<FormatConfig, { type: T }>, object> } = {
  ndjson,
  avro,
  parquet,
};

/** What the encoders need beyond the config, for tests and benchmarks that build it themselves. */
export type FormatOptions = NdjsonOptions & ParquetFormatOptions;

/** The plug-in of a config's format, with the config's own type. */
function pluginOf<C extends FormatConfig>(config: C): Format<C, FormatOptions> {
  return formats[config.type] as unknown as Format<C, FormatOptions>;
}

/** A format for one topic from parts built by the caller (throws when a part the format needs is missing). */
export function createFileFormat(config: FormatConfig, options: FormatOptions = {}): FileFormat {
  const format = pluginOf(config);
  return {
    extension: format.extension(config),
    contentType: format.contentType(config),
    createStreams: format.encoder(config, options),
  };
}

export interface StartedFormat extends FileFormat {
  readonly spillsToDisk: boolean;
  readonly deadLetters: boolean;
  /** Releases what the format opened at start (after the pipeline has drained). */
  close(): void;
}

/** The topic's format with what it needs for one pipeline's run. */
export async function startFormat(context: FormatStart): Promise<StartedFormat> {
  const config = context.topic.format;
  const format = pluginOf(config);
  const started = await format.start(config, context);
  return {
    ...createFileFormat(config, started.options),
    spillsToDisk: format.spillsToDisk,
    deadLetters: format.deadLetters(config),
    close: started.close,
  };
}
