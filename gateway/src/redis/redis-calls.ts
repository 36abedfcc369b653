import { ReplyError } from 'ioredis';
import { GatewayError } from '../errors/gateway-error.js';
import type { GatewayMetrics, RedisOperation } from '../metrics/catalog.js';

/** Reply prefixes of a Redis that is up but cannot serve now (loading, failing over, out of memory). */
const UNAVAILABLE_REPLIES = ['LOADING', 'READONLY', 'MASTERDOWN', 'OOM', 'BUSY', 'TRYAGAIN', 'CLUSTERDOWN'];

export interface RedisCallsOptions {
  /** Upper bound of one operation, in milliseconds, on top of the per-command timeout. */
  timeoutMs: number;
  retryAfterSeconds: number;
}

/** Errors that are bugs or bad data rather than an unavailable Redis; they stay 500s. */
function isProgrammingError(error: unknown): boolean {
  if (error instanceof ReplyError) return !isUnavailableReply(error);
  return (
    error instanceof TypeError ||
    error instanceof SyntaxError ||
    error instanceof RangeError ||
    (error instanceof Error && error.name === 'ZodError')
  );
}

function isUnavailableReply(error: unknown): boolean {
  if (!(error instanceof ReplyError)) return false;
  const message = String((error as Error).message);
  return UNAVAILABLE_REPLIES.some((prefix) => message.startsWith(prefix));
}

/**
 * Runs every Redis operation of a request: times it, keeps `redis_up` current and turns an
 * unreachable, slow or unavailable Redis into a `redis_unavailable` error (503) within
 * `timeoutMs`, so requests fail closed instead of hanging.
 */
export class RedisCalls {
  constructor(
    private readonly metrics: GatewayMetrics,
    private readonly options: RedisCallsOptions,
  ) {}

  async run<T>(operation: RedisOperation, call: () => Promise<T>): Promise<T> {
    const stopTimer = this.metrics.redisDuration.startTimer({ operation });
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`redis ${operation} timed out`)), this.options.timeoutMs);
    });
    try {
      const result = await Promise.race([call(), timeout]);
      this.metrics.redisUp.set(1);
      return result;
    } catch (error) {
      if (error instanceof GatewayError || isProgrammingError(error)) throw error;
      this.metrics.redisUp.set(0);
      throw new GatewayError(
        'redis_unavailable',
        'a service the gateway depends on is unavailable; retry later',
        {
          retryAfterSeconds: this.options.retryAfterSeconds,
          cause: error,
        },
      );
    } finally {
      clearTimeout(timer);
      stopTimer();
    }
  }
}
