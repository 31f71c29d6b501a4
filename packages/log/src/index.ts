import pino, { type DestinationStream, type Logger } from 'pino';
import { scrubSecrets } from './scrub.ts';

export { scrubSecrets } from './scrub.ts';
export type { Logger };

/** Keys whose values are secrets wherever they appear in a log line, at any depth. */
const SECRET_KEY =
  /pass(word)?|secret|token|authorization|cookie|connectionString|accountKey|accessKey|apiKey|privateKey|credential/i;
const CENSOR = '[redacted]';
/** Deeper than any line the code writes; what lies below is cut, not walked. */
const MAX_DEPTH = 8;

/** A copy of a log line's fields with secret-looking keys censored and secrets in free text scrubbed. */
export function redact(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return scrubSecrets(value);
  if (value === null || typeof value !== 'object') return value;
  // Errors go to pino's serializer as they are (their message is scrubbed where they are logged).
  if (value instanceof Error) return value;
  if (depth >= MAX_DEPTH) return '[too deep]';
  if (Array.isArray(value)) return value.map((item) => redact(item, depth + 1));
  const copy: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    copy[key] = SECRET_KEY.test(key) ? CENSOR : redact(item, depth + 1);
  }
  return copy;
}

export interface LoggerOptions {
  /** `hubcap-agent`, `hubcap-web`… */
  service: string;
  version: string;
  level?: string;
  destination?: DestinationStream;
}

/**
 * One JSON object per line: `level` (a word), `time` (ISO 8601), `service`, `version`, `msg`, then
 * the fields of the call; children add theirs (a topic, a request id).
 */
export function createLogger(options: LoggerOptions): Logger {
  return pino(
    {
      level: options.level ?? 'info',
      base: { service: options.service, version: options.version },
      timestamp: pino.stdTimeFunctions.isoTime,
      // Error text may quote a connection string or a SAS URL.
      serializers: {
        err: (error: Error) => {
          const serialized = pino.stdSerializers.err(error);
          return {
            ...serialized,
            message: scrubSecrets(serialized.message),
            stack: scrubSecrets(serialized.stack),
          };
        },
      },
      formatters: {
        level: (label) => ({ level: label }),
        log: (fields) => redact(fields) as Record<string, unknown>,
      },
    },
    options.destination,
  );
}
