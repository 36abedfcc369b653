import { readFileSync } from 'node:fs';
import { ModelRegistry, RedisKeys } from '@medai-flow/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dataFiles } from '../../test-support/paths.js';
import { startGateway } from '../../test-support/processes.js';
import { RedisServer } from '../../test-support/redis.js';
import { mintToken } from '../../test-support/tokens.js';
import { bearer, connectProducer, readManifest, testEnv } from './support.js';

describe('when Redis goes down and comes back', () => {
  let redis: RedisServer;
  let gateway: Awaited<ReturnType<typeof startGateway>>;
  beforeAll(async () => {
    redis = await RedisServer.start();
    gateway = await startGateway(
      testEnv('outage', { LOG_LEVEL: 'info', REDIS_RETRY_AFTER_SECONDS: '3' }, redis.url),
    );
  });
  afterAll(async () => {
    await gateway?.kill('SIGTERM');
    await redis?.stop();
  });

  const models = async () =>
    fetch(`${gateway.baseUrl}/v1/models`, { headers: bearer(await mintToken({ expiresInSeconds: 600 })) });

  it('fails closed fast, keeps health and metrics, and recovers', async () => {
    expect((await models()).status).toBe(200);
    // A submission opens the model's BullMQ queue, whose reconnect errors must reach the log as JSON.
    const producer = await connectProducer(redis.url);
    await new ModelRegistry(producer, new RedisKeys('outage')).publish(readManifest('nuclei-unet'), 'w1');
    producer.disconnect();
    const submitted = await fetch(`${gateway.baseUrl}/v1/models/nuclei-unet/jobs`, {
      method: 'POST',
      headers: { ...bearer(await mintToken({ expiresInSeconds: 600 })), 'content-type': 'image/png' },
      body: readFileSync(dataFiles.nucleiPng),
    });
    expect(submitted.status).toBe(202);

    await redis.kill();
    const startedAt = Date.now();
    const during = await models();
    const elapsedMs = Date.now() - startedAt;
    expect(during.status).toBe(503);
    expect(elapsedMs).toBeLessThan(2_000);
    expect(during.headers.get('retry-after')).toBe('3');
    expect(during.headers.get('content-type')).toBe('application/problem+json');
    expect(await during.text()).not.toMatch(/ECONNREFUSED|ioredis|stack/i);

    // Long enough for several reconnect attempts of every connection.
    await new Promise((resolveWait) => setTimeout(resolveWait, 1_500));
    expect((await fetch(`${gateway.baseUrl}/healthz`)).status).toBe(200);
    expect((await fetch(`${gateway.baseUrl}/readyz`)).status).toBe(503);
    const metrics = await (await fetch(`${gateway.baseUrl}/metrics`)).text();
    expect(metrics).toMatch(/^redis_up 0$/m);

    await redis.restart();
    const deadline = Date.now() + 10_000;
    let status = 0;
    while (Date.now() < deadline) {
      status = (await models()).status;
      if (status === 200) break;
      await new Promise((resolveWait) => setTimeout(resolveWait, 100));
    }
    expect(status).toBe(200);
    expect((await fetch(`${gateway.baseUrl}/readyz`)).status).toBe(200);

    const notJson = gateway.logs.filter((line) => !('level' in line));
    expect(notJson.map((line) => line.msg)).toEqual([]);
  });
});
