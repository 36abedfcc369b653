import { ReplyError } from 'ioredis';
import { GatewayError } from '../errors/gateway-error.js';
import type { GatewayMetrics, RedisOperation } from '../metrics/catalog.js';

/** Reply prefixes of a Redis that is up but cannot serve now (loading, failing over, out of memory). */
const UNAVAILABLE_REPLIES = ['LOADING', 'READONLY', 'MASTERDOWN', 'OOM', 'BUSY', 'TRYAGAIN', 'CLUSTERDOWN'];

/** Part of the message of a script's write that Redis refused at `maxmemory`. */
const OOM_IN_SCRIPT = 'OOM command not allowed';

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

/**
 * Whether a reply error means Redis cannot serve now. ioredis rejects a MULTI whose commands
 * Redis refused (out of memory, say) with the EXECABORT reply and the refusals in
 * `previousErrors`; such a transaction is unavailable unless one refusal is a programming error.
 * A script that hits `maxmemory` fails with an `ERR` reply that names the OOM error inside.
 */
function isUnavailableReply(error: unknown): boolean {
  if (!(error instanceof ReplyError)) return false;
  const message = String((error as Error).message);
  if (message.startsWith('EXECABORT')) {
    const previous = (error as { previousErrors?: unknown }).previousErrors;
    return !Array.isArray(previous) || previous.every(isUnavailableReply);
  }
  return UNAVAILABLE_REPLIES.some((prefix) => message.startsWith(prefix)) || message.includes(OOM_IN_SCRIPT);
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
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`redis ${operation} timed out`)), this.options.timeoutMs);
    });
    try {
      return await this.runCommands(operation, () => Promise.race([call(), timeout]));
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Runs an operation of at most two commands one after the other, such as an EVALSHA with
   * its EVAL fallback, without a timer of its own. The producer connection's `commandTimeout`
   * bounds each command, so the operation ends within `timeoutMs` (two command timeouts).
   * This saves a timer and a race on every authenticated request.
   */
  async runCommands<T>(operation: RedisOperation, call: () => Promise<T>): Promise<T> {
    const stopTimer = this.metrics.redisDuration.startTimer({ operation });
    try {
      const result = await call();
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
      stopTimer();
    }
  }
}
