import type { IncomingMessage } from 'node:http';
import { type Logger, throttledErrorLog } from '@medai-flow/common';
import { GatewayError } from '../errors/gateway-error.js';

/** Shortest pause between two `redis unavailable` warnings, in milliseconds. */
const REDIS_UNAVAILABLE_LOG_INTERVAL_MS = 10_000;

/**
 * Checks whether an error comes from the client closing its connection before the request
 * body arrived: Node fails the body stream with `aborted` (code `ECONNRESET`). Such a request
 * is no server error, and no response can reach the client anyway.
 */
export function isClientAbort(error: unknown, incoming: IncomingMessage | undefined): boolean {
  if (incoming && !incoming.complete && (incoming.destroyed || incoming.socket?.destroyed)) return true;
  const code = (error as { code?: unknown } | null)?.code;
  return error instanceof Error && error.message === 'aborted' && code === 'ECONNRESET';
}

/** Creates the error of a request whose client closed the connection; it is not logged. */
export function clientClosedError(cause: unknown): GatewayError {
  return new GatewayError('bad_request', 'the client closed the connection before the request was read', {
    cause,
  });
}

/**
 * Creates the logger of 5xx responses. A 503 because Redis is unavailable is expected during an
 * outage and repeats on every request, so it is logged at warn at most once per 10 s with the
 * number left out. Every other 5xx is logged at error each time.
 */
export function requestFailureLog(
  logger: Logger,
): (error: unknown, requestId: string, status: number) => void {
  const logUnavailable = throttledErrorLog(
    logger,
    'redis unavailable',
    { status: 503 },
    { level: 'warn', intervalMs: REDIS_UNAVAILABLE_LOG_INTERVAL_MS },
  );
  return (error, requestId, status) => {
    if (error instanceof GatewayError && error.code === 'redis_unavailable') {
      logUnavailable(error.cause);
      return;
    }
    const cause = error instanceof GatewayError ? error.cause : error;
    logger.error({ requestId, err: cause, status }, 'request failed');
  };
}
