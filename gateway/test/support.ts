import { readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import {
  createLogger,
  createRedis,
  loadConfig,
  ModelRegistry,
  type Redis,
  RedisKeys,
} from '@medai-flow/common';
import type { PublishedModel } from '@medai-flow/contracts';
import { expect } from 'vitest';
import { modelRepositoryDir } from '../../test-support/paths.js';
import { deleteKeys, testRedisUrl, uniquePrefix } from '../../test-support/redis.js';
import { testJwtSecret } from '../../test-support/tokens.js';
import { type Clock, createApp, type GatewayApp, gatewayEnvSchema } from '../src/index.js';

/** Peer address the in-process requests come from. */
export const TEST_PEER = '203.0.113.7';

/** A clock the test moves by hand. */
export class ManualClock implements Clock {
  constructor(private current = Date.now()) {}
  now(): number {
    return this.current;
  }
  set(epochMs: number): void {
    this.current = epochMs;
  }
  advance(ms: number): void {
    this.current += ms;
  }
}

export interface TestGatewayOptions {
  env?: Record<string, string>;
  clock?: Clock;
  /** Reuse another gateway's key prefix, to act as a second replica. */
  prefix?: string;
  redisUrl?: string;
}

/** An in-process gateway app on the shared test Redis with its own key prefix. */
export interface TestGateway extends GatewayApp {
  prefix: string;
  redis: Redis;
  /** `app.request()` with a socket peer, as @hono/node-server would pass it. */
  request(path: string, init?: RequestInit, peer?: string): Promise<Response>;
  publish(model: 'nuclei-unet' | 'brain-gwm'): Promise<PublishedModel>;
  dispose(): Promise<void>;
}

export function testEnv(
  prefix: string,
  env: Record<string, string> = {},
  redisUrl = testRedisUrl,
): Record<string, string> {
  return {
    NODE_ENV: 'test',
    REDIS_URL: redisUrl,
    REDIS_PREFIX: prefix,
    AUTH_JWT_SECRET: testJwtSecret,
    LOG_LEVEL: 'silent',
    ...env,
  };
}

export function readManifest(model: string): PublishedModel {
  const manifest = JSON.parse(readFileSync(join(modelRepositoryDir, model, 'model.json'), 'utf8'));
  // Tests publish without a worker; the digest only has to be well-formed.
  return { ...manifest, sha256: '0'.repeat(64) } as PublishedModel;
}

/** A gateway-style producer connection, once it is ready. */
export async function connectProducer(url: string, commandTimeoutMs = 1_000): Promise<Redis> {
  const redis = createRedis(url, { role: 'producer', commandTimeoutMs });
  redis.on('error', () => undefined);
  if (redis.status !== 'ready') {
    await new Promise<void>((resolveReady, reject) => {
      redis.once('ready', () => resolveReady());
      redis.once('end', () => reject(new Error('redis connection ended before it was ready')));
    });
  }
  return redis;
}

export async function createTestGateway(
  name: string,
  options: TestGatewayOptions = {},
): Promise<TestGateway> {
  const prefix = options.prefix ?? uniquePrefix(name);
  const redisUrl = options.redisUrl ?? testRedisUrl;
  const config = loadConfig(gatewayEnvSchema, testEnv(prefix, options.env, redisUrl));
  const redis = await connectProducer(redisUrl, config.REDIS_COMMAND_TIMEOUT_MS);
  const logger = createLogger('gateway', 'silent');
  const gateway = createApp({ config, redis, logger, ...(options.clock ? { clock: options.clock } : {}) });
  const registry = new ModelRegistry(redis, new RedisKeys(prefix), { now: () => Date.now() });
  return {
    ...gateway,
    prefix,
    redis,
    request: (path, init, peer = TEST_PEER) =>
      Promise.resolve(
        gateway.app.request(path, init, { incoming: { socket: { remoteAddress: peer } } as never }),
      ),
    async publish(model) {
      const manifest = readManifest(model);
      await registry.publish(manifest, 'test-worker');
      return manifest;
    },
    async dispose() {
      await gateway.close();
      redis.disconnect();
      if (!options.prefix) await deleteKeys(redisUrl, prefix);
    },
  };
}

export function bearer(token: string): Record<string, string> {
  return { authorization: `Bearer ${token}` };
}

export async function problemOf(response: Response): Promise<Record<string, unknown>> {
  expect(response.headers.get('content-type')).toBe('application/problem+json');
  return (await response.json()) as Record<string, unknown>;
}

/**
 * Opens a connection to `port` and starts a 1 MB PNG upload with `token`, of which it sends
 * only `sentBytes`. The socket is read and its errors ignored, so the test notices when the
 * server closes it.
 */
export async function startPartialUpload(port: number, token: string, sentBytes: number): Promise<Socket> {
  const socket = connect(port, '127.0.0.1');
  await new Promise<void>((resolveConnect, reject) => {
    socket.once('connect', () => resolveConnect());
    socket.once('error', reject);
  });
  socket.on('error', () => undefined);
  socket.resume();
  socket.write(
    [
      'POST /v1/models/nuclei-unet/jobs HTTP/1.1',
      'host: 127.0.0.1',
      `authorization: Bearer ${token}`,
      'content-type: image/png',
      'content-length: 1000000',
      '',
      '',
    ].join('\r\n'),
  );
  socket.write(Buffer.alloc(sentBytes));
  return socket;
}
