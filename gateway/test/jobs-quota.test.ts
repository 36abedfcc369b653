import type { JobRepresentation } from '@medai-flow/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintToken } from '../../test-support/tokens.js';
import { mriVolume, nucleiPng, submitAccepted, submitJob } from './jobs-support.js';
import { bearer, createTestGateway, problemOf, type TestGateway } from './support.js';

describe('per-subject job quota', () => {
  const MAX_JOBS = 3;
  let gateway: TestGateway;
  let alice: string;
  let bob: string;

  beforeAll(async () => {
    gateway = await createTestGateway('jobs-quota', {
      env: { QUEUE_MAX_JOBS_PER_SUBJECT: String(MAX_JOBS), QUEUE_QUOTA_RETRY_AFTER_SECONDS: '7' },
    });
    await gateway.publish('nuclei-unet');
    await gateway.publish('brain-gwm');
    alice = await mintToken({ sub: 'alice', expiresInSeconds: 600 });
    bob = await mintToken({ sub: 'bob', expiresInSeconds: 600 });
  });
  afterAll(() => gateway.dispose());

  it('answers 429 quota-exceeded naming the limit', async () => {
    const jobs: JobRepresentation[] = [];
    for (let i = 0; i < MAX_JOBS; i += 1)
      jobs.push(await submitAccepted(gateway, alice, 'nuclei-unet', nucleiPng));

    const response = await submitJob(gateway, alice, 'nuclei-unet', nucleiPng, { query: '?priority=stat' });
    expect(response.status).toBe(429);
    expect(response.headers.get('retry-after')).toBe('7');
    const problem = await problemOf(response);
    expect(problem.type).toBe('https://medai-flow.dev/problems/quota-exceeded');
    expect(problem.limit).toBe('QUEUE_MAX_JOBS_PER_SUBJECT');
    expect(problem.current).toBe(MAX_JOBS);
    expect(problem.max).toBe(MAX_JOBS);
    expect(problem.detail).toContain('QUEUE_MAX_JOBS_PER_SUBJECT');
    expect(await gateway.services.jobs.queueOf('nuclei-unet').count()).toBe(MAX_JOBS);
  });

  it('counts jobs across models', async () => {
    const response = await submitJob(gateway, alice, 'brain-gwm', mriVolume(), {
      contentType: 'application/x-nifti',
    });
    expect(response.status).toBe(429);
    expect((await problemOf(response)).limit).toBe('QUEUE_MAX_JOBS_PER_SUBJECT');
  });

  it('leaves other subjects unaffected', async () => {
    await submitAccepted(gateway, bob, 'nuclei-unet', nucleiPng);
  });

  it('frees a place when a job ends', async () => {
    const extra = await submitJob(gateway, alice, 'nuclei-unet', nucleiPng);
    expect(extra.status).toBe(429);
    const queued = await gateway.services.jobs.queueOf('nuclei-unet').getJobs(['prioritized']);
    const aliceJob = queued.find((job) => job.data.owner === 'alice');
    const cancel = await gateway.request(`/v1/jobs/${aliceJob?.id}`, {
      method: 'DELETE',
      headers: bearer(alice),
    });
    expect(cancel.status).toBe(200);
    await submitAccepted(gateway, alice, 'nuclei-unet', nucleiPng);
    expect((await submitJob(gateway, alice, 'nuclei-unet', nucleiPng)).status).toBe(429);
  });
});

describe('per-subject byte quota', () => {
  let gateway: TestGateway;
  let alice: string;

  beforeAll(async () => {
    gateway = await createTestGateway('jobs-quota-bytes', {
      env: { QUEUE_MAX_BYTES_PER_SUBJECT: String(Math.floor(nucleiPng.byteLength * 2.5)) },
    });
    await gateway.publish('nuclei-unet');
    alice = await mintToken({ sub: 'alice', expiresInSeconds: 600 });
  });
  afterAll(() => gateway.dispose());

  it('answers 429 once the input bytes pass the limit', async () => {
    await submitAccepted(gateway, alice, 'nuclei-unet', nucleiPng);
    await submitAccepted(gateway, alice, 'nuclei-unet', nucleiPng);
    const response = await submitJob(gateway, alice, 'nuclei-unet', nucleiPng);
    expect(response.status).toBe(429);
    expect(response.headers.get('retry-after')).toBe('10');
    const problem = await problemOf(response);
    expect(problem.type).toBe('https://medai-flow.dev/problems/quota-exceeded');
    expect(problem.limit).toBe('QUEUE_MAX_BYTES_PER_SUBJECT');
    expect(problem.current).toBe(nucleiPng.byteLength * 2);
    expect(problem.inputBytes).toBe(nucleiPng.byteLength);
  });
});

describe('queue depth bound under concurrent submissions', () => {
  const BOUND = 4;
  let gateway: TestGateway;

  beforeAll(async () => {
    gateway = await createTestGateway('jobs-depth-race', {
      env: { QUEUE_MAX_DEPTH_OVERRIDES: `nuclei-unet=${BOUND}` },
    });
    await gateway.publish('nuclei-unet');
  });
  afterAll(() => gateway.dispose());

  it('admits no more jobs than the bound', async () => {
    const tokens = await Promise.all(
      Array.from({ length: 20 }, (_, i) => mintToken({ sub: `subject-${i}`, expiresInSeconds: 600 })),
    );
    const responses = await Promise.all(
      tokens.map((token) => submitJob(gateway, token, 'nuclei-unet', nucleiPng)),
    );
    const statuses = responses.map((response) => response.status);
    expect(statuses.filter((status) => status === 202)).toHaveLength(BOUND);
    expect(statuses.filter((status) => status === 503)).toHaveLength(20 - BOUND);
    expect(await gateway.services.jobs.queueOf('nuclei-unet').count()).toBe(BOUND);
  });
});
