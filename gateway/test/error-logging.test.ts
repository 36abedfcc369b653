import { Writable } from 'node:stream';
import { createLogger, loadConfig, ModelRegistry, type Redis, RedisKeys } from '@medai-flow/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deleteKeys, RedisServer, testRedisUrl, uniquePrefix } from '../../test-support/redis.js';
import { mintToken } from '../../test-support/tokens.js';
import { createApp, type GatewayApp, gatewayEnvSchema } from '../src/index.js';
import { type GatewayServer, startServer } from '../src/server.js';
import { connectProducer, readManifest, startPartialUpload, TEST_PEER, testEnv } from './support.js';

interface LogLine {
  level: number;
  msg: string;
  [field: string]: unknown;
}

/** A gateway app whose log lines are parsed into `lines`. */
async function loggedGateway(prefix: string, redisUrl: string, env: Record<string, string> = {}) {
  const lines: LogLine[] = [];
  const destination = new Writable({
    write(chunk, _encoding, done) {
      lines.push(JSON.parse(String(chunk)) as LogLine);
      done();
    },
  });
  const config = loadConfig(gatewayEnvSchema, testEnv(prefix, { LOG_LEVEL: 'info', ...env }, redisUrl));
  const redis = await connectProducer(redisUrl, config.REDIS_COMMAND_TIMEOUT_MS);
  const gateway = createApp({ config, redis, logger: createLogger('gateway', 'info', {}, destination) });
  return { gateway, redis, lines, config };
}

describe('when Redis is unavailable', () => {
  let server: RedisServer;
  let redis: Redis;
  let gateway: GatewayApp;
  let lines: LogLine[];
  beforeAll(async () => {
    server = await RedisServer.start();
    ({ gateway, redis, lines } = await loggedGateway('outage-log', server.url, {
      REDIS_COMMAND_TIMEOUT_MS: '200',
    }));
    await server.kill();
  });
  afterAll(async () => {
    await gateway?.close();
    redis?.disconnect();
    await server?.stop();
  });

  it('logs 503s once at warn', async () => {
    for (let index = 0; index < 20; index++) {
      const response = await gateway.app.request(
        '/readyz',
        {},
        {
          incoming: { socket: { remoteAddress: TEST_PEER } } as never,
        },
      );
      expect(response.status).toBe(503);
    }

    expect(lines.filter((line) => line.level >= 50)).toEqual([]);
    const warnings = lines.filter((line) => line.msg === 'redis unavailable');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]?.level).toBe(40);
  });
});

describe('when the client drops a slow upload', () => {
  const prefix = uniquePrefix('abort-log');
  let redis: Redis;
  let gateway: GatewayApp;
  let lines: LogLine[];
  let server: GatewayServer;
  beforeAll(async () => {
    const started = await loggedGateway(prefix, testRedisUrl, { PORT: '0', HOST: '127.0.0.1' });
    ({ gateway, redis, lines } = started);
    await new ModelRegistry(redis, new RedisKeys(prefix)).publish(readManifest('nuclei-unet'), 'w1');
    server = await startServer(gateway, started.config);
  });
  afterAll(async () => {
    await server?.close();
    await gateway?.close();
    redis?.disconnect();
    await deleteKeys(testRedisUrl, prefix);
  });

  it('logs no request failure', async () => {
    const token = await mintToken({ expiresInSeconds: 600 });
    const socket = await startPartialUpload(server.port, token, 1000);
    await new Promise((resolveWait) => setTimeout(resolveWait, 300));
    socket.destroy();
    await new Promise((resolveWait) => setTimeout(resolveWait, 300));

    expect(lines.filter((line) => line.level >= 50)).toEqual([]);
  });
});
