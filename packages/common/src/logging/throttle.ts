import type { Logger } from 'pino';

export interface ThrottleOptions {
  /** Shortest pause between two logged errors, in milliseconds. Default 10000. */
  intervalMs?: number;
  now?: () => number;
  /** Level of the logged lines. Default `error`. */
  level?: 'error' | 'warn';
}

/**
 * Returns an error handler that logs `message` at error level (or `options.level`) at most
 * once per interval, with the number of errors it left out since the last line. Meant for event emitters (BullMQ
 * queues and workers) that report every failed reconnect of a Redis outage.
 */
export function throttledErrorLog(
  logger: Logger,
  message: string,
  fields: Record<string, unknown>,
  options: ThrottleOptions = {},
): (error: unknown) => void {
  const intervalMs = options.intervalMs ?? 10_000;
  const now = options.now ?? Date.now;
  const level = options.level ?? 'error';
  let lastLoggedAt = Number.NEGATIVE_INFINITY;
  let suppressed = 0;
  return (error) => {
    const time = now();
    if (time - lastLoggedAt < intervalMs) {
      suppressed += 1;
      return;
    }
    logger[level]({ ...fields, err: error, suppressed }, message);
    lastLoggedAt = time;
    suppressed = 0;
  };
}
