import { type DestinationStream, type Logger, type LoggerOptions, pino } from 'pino';
import { serializeError, serializeErrorField } from './error-serializer.js';

/**
 * Paths that must never reach a log line. Bodies and DICOM tags are not listed because they
 * are never passed to the logger in the first place.
 */
const REDACTED_PATHS = [
  'authorization',
  'headers.authorization',
  'req.headers.authorization',
  'req.headers.cookie',
  'token',
  '*.token',
  'secret',
  '*.secret',
  'password',
  '*.password',
  'redisUrl',
];

/**
 * Creates the service's pino logger: JSON lines, secrets redacted, `service` bound on every
 * line, and errors under `err`, `error` and `cause` reduced to type, message, code and stack. Writes to
 * `destination` when given, else to standard output.
 */
export function createLogger(
  service: string,
  level: string,
  options: LoggerOptions = {},
  destination?: DestinationStream,
): Logger {
  const settings: LoggerOptions = {
    level,
    base: { service },
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
    ...options,
    serializers: {
      err: serializeError,
      error: serializeErrorField,
      cause: serializeErrorField,
      ...options.serializers,
    },
  };
  return destination ? pino(settings, destination) : pino(settings);
}

export type { Logger };
