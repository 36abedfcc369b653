import { DRAIN_BUCKET_SECONDS, RedisKeys } from '@medai-flow/common';
import type { JobRepresentation } from '@medai-flow/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintToken } from '../../test-support/tokens.js';
import { getJob, mriVolume, nucleiPng, submitAccepted, submitJob } from './jobs-support.js';
import { bearer, createTestGateway, ManualClock, problemOf, type TestGateway } from './support.js';

describe('queue position', () => {
  let gateway: TestGateway;
  let alice: string;

  beforeAll(async () => {
    gateway = await createTestGateway('jobs-position');
    await gateway.publish('nuclei-unet');
    alice = await mintToken({ sub: 'alice', expiresInSeconds: 600 });
  });
  afterAll(() => gateway.dispose());

  const positionOf = async (id: string) => {
    const response = await getJob(gateway, alice, id);
    expect(response.status).toBe(200);
    return ((await response.json()) as JobRepresentation).queuePosition;
  };

  it('counts the queued jobs that start before a job', async () => {
    const routine = [];
    for (let i = 0; i < 3; i += 1)
      routine.push(await submitAccepted(gateway, alice, 'nuclei-unet', nucleiPng));
    const batch = await submitAccepted(gateway, alice, 'nuclei-unet', nucleiPng, {
      query: '?priority=batch',
    });
    const urgent = await submitAccepted(gateway, alice, 'nuclei-unet', nucleiPng, {
      query: '?priority=urgent',
    });

    expect(routine.map((job) => job.queuePosition)).toEqual([0, 1, 2]);
    expect(batch.queuePosition).toBe(3);
    expect(urgent.queuePosition).toBe(0);
    expect(await positionOf(routine[0]?.id ?? '')).toBe(1);
    expect(await positionOf(routine[2]?.id ?? '')).toBe(3);
    expect(await positionOf(batch.id)).toBe(4);

    const cancel = await gateway.request(`/v1/jobs/${urgent.id}`, {
      method: 'DELETE',
      headers: bearer(alice),
    });
    expect(cancel.status).toBe(200);
    expect(((await cancel.json()) as JobRepresentation).queuePosition).toBeUndefined();
    expect(await positionOf(routine[0]?.id ?? '')).toBe(0);
    expect(await positionOf(batch.id)).toBe(3);
  });
});

describe('queue depth bound', () => {
  const clock = new ManualClock();
  const BOUND = 3;
  const MAX_RETRY_AFTER = 45;
  let gateway: TestGateway;
  let alice: string;
  let keys: RedisKeys;

  beforeAll(async () => {
    gateway = await createTestGateway('jobs-backpressure', {
      clock,
      env: {
        QUEUE_MAX_DEPTH: '1000',
        QUEUE_MAX_DEPTH_OVERRIDES: `nuclei-unet=${BOUND}`,
        QUEUE_FULL_MAX_RETRY_AFTER_SECONDS: String(MAX_RETRY_AFTER),
      },
    });
    keys = new RedisKeys(gateway.prefix);
    await gateway.publish('nuclei-unet');
    await gateway.publish('brain-gwm');
    alice = await mintToken({ sub: 'alice', expiresInSeconds: 600 });
    for (let i = 0; i < BOUND; i += 1) await submitAccepted(gateway, alice, 'nuclei-unet', nucleiPng);
  });
  afterAll(() => gateway.dispose());

  /** Records `count` ended jobs of `model` in the drain bucket `bucketsAgo` whole buckets before now. */
  async function recordDrained(model: string, count: number, bucketsAgo: number): Promise<void> {
    const bucket = Math.floor(clock.now() / 1000 / DRAIN_BUCKET_SECONDS) - bucketsAgo;
    await gateway.redis.set(keys.drained(model, bucket), String(count), 'EX', 600);
  }

  it('answers 503 queue-full with the longest Retry-After while nothing drains', async () => {
    const response = await submitJob(gateway, alice, 'nuclei-unet', nucleiPng);
    expect(response.status).toBe(503);
    expect(response.headers.get('retry-after')).toBe(String(MAX_RETRY_AFTER));
    const problem = await problemOf(response);
    expect(problem.type).toBe('https://medai-flow.dev/problems/queue-full');
    expect(problem.queueDepth).toBe(BOUND);
    expect(problem.maxQueueDepth).toBe(BOUND);
    expect(await gateway.services.jobs.queueOf('nuclei-unet').count()).toBe(BOUND);
  });

  it('derives Retry-After from the drain rate', async () => {
    // 6 jobs in the last minute: 0.1 jobs per second, so one free place takes 10 s.
    await recordDrained('nuclei-unet', 4, 1);
    await recordDrained('nuclei-unet', 2, 5);
    const response = await submitJob(gateway, alice, 'nuclei-unet', nucleiPng);
    expect(response.status).toBe(503);
    expect(response.headers.get('retry-after')).toBe('10');
  });

  it('counts every job beyond the bound in Retry-After', async () => {
    // A second gateway with a lower bound on the same queue: 3 queued, bound 1, so 3 jobs must drain.
    const strict = await createTestGateway('jobs-backpressure-strict', {
      clock,
      prefix: gateway.prefix,
      env: { QUEUE_MAX_DEPTH: '1', QUEUE_FULL_MAX_RETRY_AFTER_SECONDS: String(MAX_RETRY_AFTER) },
    });
    try {
      const response = await submitJob(strict, alice, 'nuclei-unet', nucleiPng);
      expect(response.status).toBe(503);
      expect(response.headers.get('retry-after')).toBe('30');
    } finally {
      await strict.dispose();
    }
  });

  it('caps Retry-After at its configured maximum', async () => {
    await gateway.redis.del(
      keys.drained('nuclei-unet', Math.floor(clock.now() / 1000 / DRAIN_BUCKET_SECONDS) - 1),
    );
    await recordDrained('nuclei-unet', 1, 5);
    // 1 job per minute gives 60 s, above the 45 s maximum.
    const response = await submitJob(gateway, alice, 'nuclei-unet', nucleiPng);
    expect(response.status).toBe(503);
    expect(response.headers.get('retry-after')).toBe(String(MAX_RETRY_AFTER));
  });

  it('bounds each model on its own', async () => {
    await submitAccepted(gateway, alice, 'brain-gwm', mriVolume(), { contentType: 'application/x-nifti' });
  });
});
