import { type Logger, type LoggerOptions, pino } from 'pino';

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

/** Creates the service's pino logger: JSON lines, secrets redacted, `service` bound on every line. */
export function createLogger(service: string, level: string, options: LoggerOptions = {}): Logger {
  return pino({
    level,
    base: { service },
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
    ...options,
  });
}

export type { Logger };
