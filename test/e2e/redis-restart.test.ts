import { readFileSync } from 'node:fs';
import { ApiError, MedAIClient } from '@medai-flow/client';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { dataFiles } from '../../test-support/paths.js';
import { type ServiceProcess, startGateway, startWorker } from '../../test-support/processes.js';
import { RedisServer, uniquePrefix } from '../../test-support/redis.js';
import { mintToken, testJwtSecret } from '../../test-support/tokens.js';

const JOBS = 12;

describe('durable Redis killed and restarted', () => {
  let redis: RedisServer;
  let worker: ServiceProcess;
  let gateway: ServiceProcess & { baseUrl: string };
  let client: MedAIClient;

  beforeAll(async () => {
    redis = await RedisServer.start({ durable: true });
    const env = {
      REDIS_URL: redis.url,
      REDIS_PREFIX: uniquePrefix('restart'),
      AUTH_JWT_SECRET: testJwtSecret,
      INFERENCE_THREADS: '1',
      LOCK_DURATION_SECONDS: '5',
      STALLED_INTERVAL_SECONDS: '2',
    };
    [worker, gateway] = await Promise.all([startWorker(env), startGateway(env)]);
    client = new MedAIClient({ baseUrl: gateway.baseUrl, token: await mintToken({ sub: 'restart-user' }) });
  }, 120_000);

  afterAll(async () => {
    await Promise.all([gateway?.kill('SIGTERM'), worker?.kill('SIGTERM')]);
    await redis?.stop();
  });

  it('loses no job answered 202', async () => {
    const image = readFileSync(dataFiles.nucleiPng);
    const accepted: string[] = [];
    for (let i = 0; i < JOBS; i++) {
      accepted.push((await client.submit('nuclei-unet', { mediaType: 'image/png', bytes: image })).job.id);
    }

    await redis.kill();
    const during = await client
      .submit('nuclei-unet', { mediaType: 'image/png', bytes: image })
      .catch((e) => e);
    expect(during).toBeInstanceOf(ApiError);
    expect((during as ApiError).status).toBe(503);
    await redis.restart();

    const statuses = [];
    for (const id of accepted) statuses.push((await waitThroughOutage(client, id)).status);
    expect(statuses).toEqual(accepted.map(() => 'succeeded'));
    // A record is marked succeeded just before the worker logs it.
    await vi.waitFor(() => {
      for (const id of accepted) {
        const ends = worker.logs.filter((line) => line.msg === 'job succeeded' && line.jobId === id);
        expect(ends.length, `job ${id}`).toBe(1);
      }
    });
  }, 180_000);
});

/** Waits for the job to end, retrying while the gateway still reports Redis unavailable. */
async function waitThroughOutage(client: MedAIClient, id: string) {
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    try {
      return await client.waitForJob(id, { timeoutMs: deadline - Date.now() });
    } catch (error) {
      if (!(error instanceof ApiError) || error.status !== 503) throw error;
      await new Promise((resolveWait) => setTimeout(resolveWait, 250));
    }
  }
  throw new Error(`job ${id} did not end within 120 s`);
}
