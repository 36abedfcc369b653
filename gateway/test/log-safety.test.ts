import { readFileSync } from 'node:fs';
import { Writable } from 'node:stream';
import { createLogger, loadConfig, ModelRegistry, type Redis, RedisKeys } from '@medai-flow/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dataFiles } from '../../test-support/paths.js';
import { RedisServer } from '../../test-support/redis.js';
import { mintToken } from '../../test-support/tokens.js';
import { createApp, type GatewayApp, gatewayEnvSchema } from '../src/index.js';
import { bearer, connectProducer, problemOf, readManifest, TEST_PEER, testEnv } from './support.js';

/** Longest log line accepted, in characters: an error with its stack, never a body. */
const MAX_LOG_LINE_CHARS = 8_192;

/** Writes until Redis rejects writes with OOM, so the next write of the gateway fails. */
async function fillUntilOutOfMemory(redis: Redis): Promise<void> {
  const chunk = 'f'.repeat(64 * 1024);
  for (let index = 0; index < 10_000; index += 1) {
    try {
      await redis.set(`filler:${index}`, chunk);
    } catch (error) {
      if (String((error as Error).message).startsWith('OOM')) return;
      throw error;
    }
  }
  throw new Error('redis never reported OOM');
}

describe('when Redis is out of memory', () => {
  const lines: string[] = [];
  let server: RedisServer;
  let redis: Redis;
  let gateway: GatewayApp;

  beforeAll(async () => {
    server = await RedisServer.start({
      extraArgs: ['--maxmemory', '4mb', '--maxmemory-policy', 'noeviction'],
    });
    const config = loadConfig(gatewayEnvSchema, testEnv('oom', { LOG_LEVEL: 'info' }, server.url));
    redis = await connectProducer(server.url);
    const destination = new Writable({
      write(chunk, _encoding, done) {
        lines.push(String(chunk));
        done();
      },
    });
    gateway = createApp({ config, redis, logger: createLogger('gateway', 'info', {}, destination) });
    await new ModelRegistry(redis, new RedisKeys('oom')).publish(readManifest('nuclei-unet'), 'w1');
    await fillUntilOutOfMemory(redis);
  });
  afterAll(async () => {
    await gateway?.close();
    redis?.disconnect();
    await server?.stop();
  });

  it('answers a submission 503 without logging the body', async () => {
    const png = readFileSync(dataFiles.nucleiPng);
    const response = await gateway.app.request(
      '/v1/models/nuclei-unet/jobs',
      {
        method: 'POST',
        headers: { ...bearer(await mintToken({ expiresInSeconds: 600 })), 'content-type': 'image/png' },
        body: png,
      },
      { incoming: { socket: { remoteAddress: TEST_PEER } } as never },
    );

    expect(response.status).toBe(503);
    expect(response.headers.get('retry-after')).not.toBeNull();
    expect((await problemOf(response)).status).toBe(503);
    const bodySample = png.subarray(1_000, 1_048);
    for (const line of lines) {
      expect(line.length).toBeLessThan(MAX_LOG_LINE_CHARS);
      expect(line).not.toContain(bodySample.toString('base64').slice(0, 40));
      expect(line).not.toContain(bodySample.toString('latin1'));
      expect(line).not.toMatch(/"args"|"previousErrors"|"command"/);
    }
  });
});
