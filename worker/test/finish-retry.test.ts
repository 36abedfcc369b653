import { createLogger } from '@medai-flow/common';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { RedisServer, uniquePrefix } from '../../test-support/redis.js';
import { startWorkerService, type WorkerService } from '../dist/index.js';
import { largeNucleiPng, sleep, TestClient, workerConfig } from './harness.js';

/** Waits until `lines` has a log line whose `msg` is `message`, or fails after `timeoutMs`. */
async function waitForLog(lines: string[], message: string, timeoutMs = 30_000): Promise<string> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    const line = lines.find((candidate) => JSON.parse(candidate).msg === message);
    if (line) return line;
    await sleep(50);
  }
  throw new Error(`no "${message}" log line within ${timeoutMs} ms`);
}

describe('job end while Redis rejects writes', () => {
  let server: RedisServer;
  let admin: Redis;
  let client: TestClient;
  let service: WorkerService;
  const lines: string[] = [];

  beforeAll(async () => {
    server = await RedisServer.start({ extraArgs: ['--maxmemory-policy', 'noeviction'] });
    admin = new Redis(server.url);
    client = new TestClient(uniquePrefix('finish-retry'), server.url);
    // Locks outlast the memory squeeze, so no stalled-job takeover runs the job a second time.
    const config = workerConfig(client.prefix, {
      REDIS_URL: server.url,
      INFERENCE_THREADS: '1',
      LOCK_DURATION_SECONDS: '60',
      STALLED_INTERVAL_SECONDS: '60',
    });
    const logger = createLogger('worker-test', 'warn', {}, { write: (line: string) => lines.push(line) });
    service = await startWorkerService(config, logger);
  });

  afterAll(async () => {
    await service?.close();
    await client?.close();
    admin?.disconnect();
    await server?.stop();
  });

  it('retries the finish until Redis accepts it', async () => {
    const id = await client.submitMedia('nuclei-unet', 'image/png', await largeNucleiPng());
    await client.waitFor(id, 'running');
    // Every write that may grow memory now fails with OOM, as under noeviction when Redis is full.
    await admin.config('SET', 'maxmemory', '1');

    const retry = await waitForLog(lines, 'job finish failed, retrying');
    expect(JSON.parse(retry)).toMatchObject({ jobId: id, attempt: 1 });
    expect(JSON.parse(retry).reason).toMatch(/^OOM command not allowed/);
    expect(retry).not.toContain('segmentation');
    expect((await client.store.get(id))?.status).toBe('running');
    await sleep(1_000);

    await admin.config('SET', 'maxmemory', '0');
    const record = await client.waitFor(id, undefined, 30_000);
    expect(record.status, JSON.stringify(record.error)).toBe('succeeded');
    expect(record.result?.segmentation?.mask.mediaType).toBe('image/png');
    expect(await client.redis.exists(client.keys.input(id))).toBe(0);
    // The record is marked succeeded before BullMQ completes and removes the job.
    await vi.waitFor(async () => expect(await client.queue('nuclei-unet').getJob(id)).toBeUndefined());
    const retries = lines.filter((line) => JSON.parse(line).msg === 'job finish failed, retrying');
    expect(retries.length).toBeGreaterThanOrEqual(2);
    expect(lines.some((line) => JSON.parse(line).msg === 'job finish failed')).toBe(false);
  });
});
