import pino, { type Logger } from 'pino';

export { scrubSecrets } from './scrub.ts';
export type { Logger };

/** Paths pino replaces with "[redacted]" wherever they appear in a log line. */
export const REDACT_PATHS = [
  'connectionString',
  '*.connectionString',
  '*.*.connectionString',
  '*.*.*.connectionString',
  'token',
  '*.token',
  'authorization',
  '*.authorization',
  'headers.authorization',
  '*.headers.authorization',
  'accountKey',
  '*.accountKey',
];

export function createLogger(options: {
  service: string;
  version: string;
  level: string;
  destination?: pino.DestinationStream;
}): Logger {
  return pino(
    {
      level: options.level,
      base: { service: options.service, version: options.version },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      formatters: { level: (label) => ({ level: label }) },
    },
    options.destination,
  );
}
