import { randomUUID } from 'node:crypto';
import { enqueueJob, type JobRecord, JobStore, openModelQueue, RedisKeys } from '@medai-flow/common';
import type { QueueJobData } from '@medai-flow/contracts';
import type { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { deleteKeys, testRedisUrl, uniquePrefix } from '../../../test-support/redis.js';

const error = {
  type: 'https://medai-flow.dev/problems/job-cancelled',
  title: 'Job was cancelled',
  detail: 'cancelled',
};

const noLimits = {
  maxJobsPerSubject: 1_000,
  maxBytesPerSubject: 1_000_000,
  maxQueueDepth: 1_000,
};

describe('job admission', () => {
  let redis: Redis;
  let prefix: string;
  let keys: RedisKeys;
  let store: JobStore;
  let queue: Queue<QueueJobData>;

  beforeEach(() => {
    redis = new Redis(testRedisUrl);
    prefix = uniquePrefix('admission');
    keys = new RedisKeys(prefix);
    store = new JobStore(redis, keys, { resultTtlSeconds: 60, goneTtlSeconds: 600 });
    queue = openModelQueue('m1', redis, keys, () => undefined);
  });

  afterEach(async () => {
    await queue.close();
    redis.disconnect();
    await deleteKeys(testRedisUrl, prefix);
  });

  function job(owner: string, id: string = randomUUID()): { record: JobRecord; data: QueueJobData } {
    const record: JobRecord = {
      id,
      model: 'm1',
      owner,
      status: 'queued',
      priority: 'routine',
      requestId: 'r1',
      createdAt: Date.now(),
      inputSha256: 'abc',
    };
    const data = {
      jobId: id,
      model: 'm1',
      owner,
      requestId: 'r1',
      createdAt: record.createdAt,
      rawOutputs: false,
      input: { kind: 'image', mediaType: 'image/png', sha256: 'abc' },
    } as unknown as QueueJobData;
    return { record, data };
  }

  function submit(owner: string, bytes: number, limits = noLimits, id?: string) {
    const { record, data } = job(owner, id);
    return enqueueJob(queue, store, record, new Uint8Array(bytes), data, limits);
  }

  it('rejects a job beyond the subject job limit', async () => {
    const limits = { ...noLimits, maxJobsPerSubject: 2 };
    expect(await submit('alice', 10, limits)).toEqual({ admitted: true });
    expect(await submit('alice', 10, limits)).toEqual({ admitted: true });
    expect(await submit('alice', 10, limits)).toEqual({
      admitted: false,
      limit: 'subject-jobs',
      current: 2,
      max: 2,
    });
    expect(await submit('bob', 10, limits)).toEqual({ admitted: true });
    expect(await queue.count()).toBe(3);
  });

  it('rejects input bytes beyond the subject byte limit', async () => {
    const limits = { ...noLimits, maxBytesPerSubject: 100 };
    expect(await submit('alice', 60, limits)).toEqual({ admitted: true });
    expect(await submit('alice', 41, limits)).toEqual({
      admitted: false,
      limit: 'subject-bytes',
      current: 60,
      max: 100,
    });
    expect(await submit('alice', 40, limits)).toEqual({ admitted: true });
    expect(await store.quotaUsage('alice')).toEqual({ jobs: 2, bytes: 100 });
  });

  it('releases the quota once when a job ends', async () => {
    const { record, data } = job('alice');
    await enqueueJob(queue, store, record, new Uint8Array(30), data, noLimits);
    await submit('alice', 20);
    expect(await store.finish(record.id, { status: 'cancelled', error }, Date.now())).toBe(true);
    expect(await store.quotaUsage('alice')).toEqual({ jobs: 1, bytes: 20 });
    expect(await store.finish(record.id, { status: 'failed', error }, Date.now())).toBe(false);
    expect(await store.quotaUsage('alice')).toEqual({ jobs: 1, bytes: 20 });
  });

  it('releases the quota of a job whose enqueue failed', async () => {
    // BullMQ rejects integer custom job ids, so this add fails after the record was stored.
    await expect(submit('alice', 30, noLimits, '12345')).rejects.toThrow(/cannot be integers/);
    expect(await store.quotaUsage('alice')).toEqual({ jobs: 0, bytes: 0 });
    expect(await store.get('12345')).toBeNull();
    expect(await redis.zcard(keys.admitting('m1'))).toBe(0);
  });

  it('drops quota entries older than the job age limit', async () => {
    const shortLived = new JobStore(redis, keys, {
      resultTtlSeconds: 60,
      goneTtlSeconds: 600,
      maxJobAgeSeconds: 60,
    });
    const old = job('alice');
    old.record.createdAt = Date.now() - 61_000;
    await shortLived.create(old.record, new Uint8Array(50));
    const fresh = job('alice');
    const limits = {
      ...noLimits,
      maxJobsPerSubject: 1,
      queueKeys: { wait: 'x', prioritized: 'y', jobPrefix: 'z:' },
    };
    expect(await shortLived.create(fresh.record, new Uint8Array(50), limits)).toEqual({ admitted: true });
    expect(await shortLived.quotaUsage('alice')).toEqual({ jobs: 1, bytes: 50 });
  });

  it('holds the queue depth bound under concurrent submissions', async () => {
    const limits = { ...noLimits, maxQueueDepth: 5 };
    const admissions = await Promise.all(
      Array.from({ length: 30 }, (_, i) => submit(`subject-${i}`, 10, limits)),
    );
    expect(admissions.filter((admission) => admission.admitted)).toHaveLength(5);
    expect(await queue.count()).toBe(5);
    expect(await redis.zcard(keys.admitting('m1'))).toBe(0);
  });

  it('counts a queued job once before its admission entry ends', async () => {
    // A gateway that queued a job but has not removed its admitting entry yet, as under load.
    const limits = { ...noLimits, maxQueueDepth: 2 };
    const queued = job('alice');
    await redis.zadd(keys.admitting('m1'), Date.now(), queued.record.id);
    await queue.add('inference', queued.data, { jobId: queued.record.id });

    expect(await submit('bob', 10, limits)).toEqual({ admitted: true });
    expect(await submit('carol', 10, limits)).toEqual({
      admitted: false,
      limit: 'queue-depth',
      current: 2,
      max: 2,
    });
  });

  it('holds the subject job limit under concurrent submissions', async () => {
    const limits = { ...noLimits, maxJobsPerSubject: 4 };
    const admissions = await Promise.all(Array.from({ length: 30 }, () => submit('alice', 10, limits)));
    expect(admissions.filter((admission) => admission.admitted)).toHaveLength(4);
    expect(await store.quotaUsage('alice')).toEqual({ jobs: 4, bytes: 40 });
  });
});
