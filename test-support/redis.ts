import { randomBytes } from 'node:crypto';

export { deleteKeys, freePort, RedisServer, type RedisServerOptions } from '@medai-flow/testkit';

/** The shared Redis server of the test run; each test isolates itself with its own key prefix. */
export const testRedisUrl = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** A fresh key prefix (also usable as a BullMQ prefix): `t-<name>-<random>`. */
export function uniquePrefix(name: string): string {
  return `t-${name.replace(/[^A-Za-z0-9_-]/g, '-').slice(0, 24)}-${randomBytes(4).toString('hex')}`;
}
