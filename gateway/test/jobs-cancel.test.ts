import { RedisKeys } from '@medai-flow/common';
import type { JobRepresentation } from '@medai-flow/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ServiceProcess } from '../../test-support/processes.js';
import { mintToken } from '../../test-support/tokens.js';
import { getJob, mriVolume, nucleiPng, pollJob, startTestWorker, submitAccepted } from './jobs-support.js';
import { bearer, createTestGateway, problemOf, type TestGateway } from './support.js';

const JOB_CANCELLED = 'https://medai-flow.dev/problems/job-cancelled';

describe('DELETE /v1/jobs/{id}', () => {
  let gateway: TestGateway;
  let keys: RedisKeys;
  let alice: string;
  let bob: string;

  beforeAll(async () => {
    gateway = await createTestGateway('jobs-cancel');
    keys = new RedisKeys(gateway.prefix);
    await gateway.publish('nuclei-unet');
    alice = await mintToken({ sub: 'alice', expiresInSeconds: 600 });
    bob = await mintToken({ sub: 'bob', expiresInSeconds: 600 });
  });
  afterAll(() => gateway.dispose());

  const cancel = (target: TestGateway, token: string, id: string, headers: Record<string, string> = {}) =>
    target.request(`/v1/jobs/${id}`, { method: 'DELETE', headers: { ...bearer(token), ...headers } });

  describe('when the job is queued', () => {
    it('cancels it at once and removes it from the queue', async () => {
      const job = await submitAccepted(gateway, alice, 'nuclei-unet', nucleiPng);
      const response = await cancel(gateway, alice, job.id);

      expect(response.status).toBe(200);
      const body = (await response.json()) as JobRepresentation;
      expect(body.status).toBe('cancelled');
      expect(body.error?.type).toBe(JOB_CANCELLED);
      expect(body.finishedAt).toBeDefined();
      expect(await gateway.services.jobs.queueOf('nuclei-unet').getJob(job.id)).toBeUndefined();
      expect(await gateway.redis.exists(keys.input(job.id))).toBe(0);
      expect(await gateway.redis.hget(keys.job(job.id), 'status')).toBe('cancelled');
    });

    it('answers 409 job-finished once the job has ended', async () => {
      const job = await submitAccepted(gateway, alice, 'nuclei-unet', nucleiPng);
      expect((await cancel(gateway, alice, job.id)).status).toBe(200);

      const again = await cancel(gateway, alice, job.id);
      expect(again.status).toBe(409);
      const problem = await problemOf(again);
      expect(problem.type).toBe('https://medai-flow.dev/problems/job-finished');
      expect(problem.status).toBe(409);
    });

    it("answers 404 for another subject's job and leaves it queued", async () => {
      const job = await submitAccepted(gateway, alice, 'nuclei-unet', nucleiPng);
      const response = await cancel(gateway, bob, job.id);
      expect(response.status).toBe(404);
      expect((await problemOf(response)).type).toBe('https://medai-flow.dev/problems/job-not-found');
      expect(await gateway.redis.hget(keys.job(job.id), 'status')).toBe('queued');
      await cancel(gateway, alice, job.id);
    });

    it('requires the jobs:write permission', async () => {
      const job = await submitAccepted(gateway, alice, 'nuclei-unet', nucleiPng);
      const reader = await mintToken({ sub: 'alice', scope: 'jobs:read', expiresInSeconds: 600 });
      const response = await cancel(gateway, reader, job.id);
      expect(response.status).toBe(403);
      expect(await gateway.redis.hget(keys.job(job.id), 'status')).toBe('queued');
      await cancel(gateway, alice, job.id);
    });
  });

  describe('when the job is running', () => {
    let worker: ServiceProcess | undefined;
    let second: TestGateway | undefined;
    afterAll(async () => {
      await worker?.stop(5_000);
      await second?.dispose();
    });

    it('stops it from a second gateway instance', async () => {
      second = await createTestGateway('jobs-cancel-second', { prefix: gateway.prefix });
      worker = await startTestWorker(gateway.prefix, 'brain-gwm');
      // brain-gwm takes about 6 s, long enough to cancel it while it runs.
      const job = await submitAccepted(gateway, alice, 'brain-gwm', mriVolume(), {
        contentType: 'application/x-nifti',
      });
      const running = await pollJob(gateway, alice, job.id, (current) => current.status !== 'queued');
      expect(running.status).toBe('running');

      const response = await cancel(second, alice, job.id);
      expect(response.status).toBe(202);
      expect(response.headers.get('location')).toBe(`/v1/jobs/${job.id}`);
      expect(((await response.json()) as JobRepresentation).status).toBe('running');

      const ended = await getJob(gateway, alice, job.id, { prefer: 'wait=10' });
      expect(ended.status).toBe(200);
      const body = (await ended.json()) as JobRepresentation;
      expect(body.status).toBe('cancelled');
      expect(body.error?.type).toBe(JOB_CANCELLED);
      expect(body.result).toBeUndefined();
      const ranMs = Date.parse(body.finishedAt ?? '') - Date.parse(body.startedAt ?? '');
      expect(ranMs).toBeLessThan(5_000);
      await worker.waitForLog((line) => line.msg === 'job cancel requested' && line.jobId === job.id, 1_000);
    });
  });
});
