import { JobStore, RedisKeys } from '@medai-flow/common';
import { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { deleteKeys, testRedisUrl, uniquePrefix } from '../../../test-support/redis.js';

const error = {
  type: 'https://medai-flow.dev/problems/inference-failed',
  title: 'Inference failed',
  detail: 'boom',
};

describe('JobStore', () => {
  let redis: Redis;
  let prefix: string;
  let keys: RedisKeys;
  let store: JobStore;

  beforeEach(() => {
    redis = new Redis(testRedisUrl);
    prefix = uniquePrefix('job-store');
    keys = new RedisKeys(prefix);
    store = new JobStore(redis, keys, { resultTtlSeconds: 60, goneTtlSeconds: 600 });
  });

  afterEach(async () => {
    redis.disconnect();
    await deleteKeys(testRedisUrl, prefix);
  });

  async function createJob(id: string): Promise<void> {
    await store.create(
      {
        id,
        model: 'm1',
        owner: 'alice',
        status: 'queued',
        priority: 'routine',
        requestId: 'r1',
        createdAt: 1_000,
        inputSha256: 'abc',
      },
      new Uint8Array([1, 2, 3]),
    );
  }

  it('ends a job only once', async () => {
    await createJob('j1');
    expect(await store.finish('j1', { status: 'cancelled', error }, 2_000)).toBe(true);
    expect(await store.finish('j1', { status: 'failed', error }, 3_000)).toBe(false);
    const record = await store.get('j1');
    expect(record?.status).toBe('cancelled');
    expect(record?.finishedAt).toBe(2_000);
  });

  it('deletes the input and keeps a tombstone', async () => {
    await createJob('j2');
    expect((await store.readInput('j2'))?.length).toBe(3);
    await store.finish('j2', { status: 'failed', error }, 2_000);
    expect(await store.readInput('j2')).toBeNull();
    expect(await store.tombstoneOwner('j2')).toBe('alice');
    expect(await redis.ttl(keys.job('j2'))).toBeGreaterThan(50);
    expect(await redis.ttl(keys.tombstone('j2'))).toBeGreaterThan(600);
  });

  it('honours the expected current state', async () => {
    await createJob('j3');
    expect(await store.markRunning('j3', 1_500)).toBe('run');
    expect(await store.finish('j3', { status: 'expired', error }, 2_000, 'queued')).toBe(false);
    expect((await store.get('j3'))?.status).toBe('running');
  });

  it('refuses to run an ended job', async () => {
    await createJob('j4');
    await store.finish('j4', { status: 'cancelled', error }, 2_000);
    expect(await store.markRunning('j4', 2_500)).toBe('ended');
  });

  it('keeps a cancel request for a worker that takes over', async () => {
    await createJob('j6');
    expect(await store.requestCancel('j6')).toBe(false);
    await store.markRunning('j6', 1_500);
    expect(await store.requestCancel('j6')).toBe(true);
    expect(await store.markRunning('j6', 2_500)).toBe('cancel');
  });

  it('puts a handed-back job back in the queue', async () => {
    await createJob('j7');
    expect(await store.markQueued('j7')).toBe(false);
    await store.markRunning('j7', 1_500);
    expect(await store.markQueued('j7')).toBe(true);
    const record = await store.get('j7');
    expect(record?.status).toBe('queued');
    expect(record?.startedAt).toBeUndefined();
  });

  it('announces every job end', async () => {
    const subscriber = new Redis(testRedisUrl);
    const messages: string[] = [];
    await subscriber.subscribe(keys.jobEndedChannel);
    subscriber.on('message', (_channel, message) => messages.push(message));
    await createJob('j5');
    await store.finish('j5', { status: 'failed', error }, Date.now());
    await new Promise((resolveWait) => setTimeout(resolveWait, 100));
    subscriber.disconnect();
    expect(messages).toEqual(['j5']);
  });

  it('measures the drain rate over whole buckets', async () => {
    const now = Date.now();
    for (const id of ['a', 'b', 'c']) {
      await createJob(id);
      await store.finish(id, { status: 'failed', error }, now - 10_000);
    }
    // Three jobs in the previous bucket, averaged over one minute.
    expect(await store.drainRate('m1', now)).toBeCloseTo(3 / 60, 5);
    expect(await store.drainRate('other-model', now)).toBe(0);
  });
});
