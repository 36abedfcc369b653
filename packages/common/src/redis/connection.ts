import { Redis, type RedisOptions } from 'ioredis';

/**
 * - `producer`: the gateway. Commands fail fast while Redis is down (no offline queue, a
 *   command timeout), so a Redis outage becomes a quick 503 instead of a hang.
 * - `worker`: BullMQ workers and their blocking connections. BullMQ requires
 *   `maxRetriesPerRequest: null`; commands wait for the reconnect.
 */
export type RedisRole = 'producer' | 'worker';

export interface RedisConnectionOptions {
  role: RedisRole;
  /** Per-command timeout of a producer connection, in milliseconds. Default 1000. */
  commandTimeoutMs?: number;
  /** Name shown by `CLIENT LIST`, for operators. */
  connectionName?: string;
  /**
   * Sends the commands issued in one event-loop tick as one pipeline (ioredis
   * `enableAutoPipelining`), which cuts system calls under concurrent requests. Default false.
   */
  autoPipelining?: boolean;
}

/** Longest pause between reconnect attempts, in milliseconds. */
const MAX_RECONNECT_DELAY_MS = 1_000;

/** Builds ioredis options for a role; the URL is kept out of them so that it never reaches a log. */
export function redisOptions(options: RedisConnectionOptions): RedisOptions {
  const common: RedisOptions = {
    lazyConnect: false,
    connectTimeout: 2_000,
    retryStrategy: (attempt) => Math.min(attempt * 100, MAX_RECONNECT_DELAY_MS),
    ...(options.connectionName ? { connectionName: options.connectionName } : {}),
    ...(options.autoPipelining ? { enableAutoPipelining: true } : {}),
  };
  if (options.role === 'worker') {
    return { ...common, maxRetriesPerRequest: null, enableOfflineQueue: true };
  }
  return {
    ...common,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    commandTimeout: options.commandTimeoutMs ?? 1_000,
  };
}

/** Opens a connection to `url` (`redis://` or `rediss://`) with the options of `role`. */
export function createRedis(url: string, options: RedisConnectionOptions): Redis {
  return new Redis(url, redisOptions(options));
}

export type { Redis };
