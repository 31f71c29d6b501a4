import pino, { type Logger } from 'pino';

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

/** Removes secrets that may hide inside free-form error text (SAS signatures, account keys). */
export function scrubSecrets(text: string): string {
  return text
    .replace(/(AccountKey|SharedAccessKey|SharedAccessSignature)=[^;\s"]+/gi, '$1=[redacted]')
    .replace(/([?&]sig=)[^&\s"]+/gi, '$1[redacted]')
    .replace(/(Bearer\s+)[A-Za-z0-9._~+/=-]+/g, '$1[redacted]');
}
