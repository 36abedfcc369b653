import { randomUUID } from 'node:crypto';
import { RedisKeys } from '@medai-flow/common';
import type { JobRepresentation } from '@medai-flow/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintToken } from '../../test-support/tokens.js';
import { getJob, nucleiPng, sleep, submitAccepted } from './jobs-support.js';
import { bearer, createTestGateway, problemOf, type TestGateway } from './support.js';

describe('result retention', () => {
  let gateway: TestGateway;
  let keys: RedisKeys;
  let alice: string;
  let bob: string;

  beforeAll(async () => {
    gateway = await createTestGateway('jobs-retention', {
      env: { RESULT_TTL_SECONDS: '1', GONE_TTL_SECONDS: '2' },
    });
    keys = new RedisKeys(gateway.prefix);
    await gateway.publish('nuclei-unet');
    alice = await mintToken({ sub: 'alice', expiresInSeconds: 600 });
    bob = await mintToken({ sub: 'bob', expiresInSeconds: 600 });
  });
  afterAll(() => gateway.dispose());

  async function untilGone(key: string): Promise<void> {
    const until = Date.now() + 10_000;
    while ((await gateway.redis.exists(key)) === 1) {
      if (Date.now() > until) throw new Error(`${key} did not expire in time`);
      await sleep(50);
    }
  }

  it('answers 410 after the record expires, then 404 after the gone window', async () => {
    const job = await submitAccepted(gateway, alice, 'nuclei-unet', nucleiPng);
    const ended = await gateway.request(`/v1/jobs/${job.id}`, { method: 'DELETE', headers: bearer(alice) });
    expect(ended.status).toBe(200);
    const kept = await getJob(gateway, alice, job.id);
    expect(kept.status).toBe(200);
    expect(((await kept.json()) as JobRepresentation).status).toBe('cancelled');
    expect(await gateway.redis.ttl(keys.tombstone(job.id))).toBeGreaterThan(0);

    await untilGone(keys.job(job.id));
    const gone = await getJob(gateway, alice, job.id);
    expect(gone.status).toBe(410);
    expect((await problemOf(gone)).type).toBe('https://medai-flow.dev/problems/gone');
    // Another subject cannot learn that the id existed.
    expect((await getJob(gateway, bob, job.id)).status).toBe(404);

    await untilGone(keys.tombstone(job.id));
    const forgotten = await getJob(gateway, alice, job.id);
    expect(forgotten.status).toBe(404);
    expect((await problemOf(forgotten)).type).toBe('https://medai-flow.dev/problems/job-not-found');
  });

  it('answers 404 for an id that never existed', async () => {
    const response = await getJob(gateway, alice, randomUUID());
    expect(response.status).toBe(404);
    expect((await problemOf(response)).type).toBe('https://medai-flow.dev/problems/job-not-found');
  });
});
