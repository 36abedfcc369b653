import type { JobRepresentation } from '@medai-flow/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ServiceProcess, startGateway } from '../../test-support/processes.js';
import { testRedisUrl } from '../../test-support/redis.js';
import { mintToken, testJwtSecret } from '../../test-support/tokens.js';
import {
  getJob,
  mriVolume,
  nucleiPng,
  sleep,
  startTestWorker,
  submitAccepted,
  submitJob,
} from './jobs-support.js';
import { bearer, createTestGateway, type TestGateway } from './support.js';

// Far longer than any wait below, so a request that returns early was woken by the
// job-ended message and not by the safety poll.
const POLL_MS = '30000';

describe('Prefer: wait', () => {
  let gateway: TestGateway;
  let worker: ServiceProcess;
  let alice: string;
  const volume = mriVolume();

  beforeAll(async () => {
    gateway = await createTestGateway('jobs-wait', { env: { JOB_WAIT_POLL_MS: POLL_MS } });
    // brain-gwm is published but no worker serves it here, so its jobs stay queued.
    await gateway.publish('brain-gwm');
    alice = await mintToken({ sub: 'alice', expiresInSeconds: 600 });
    worker = await startTestWorker(gateway.prefix, 'nuclei-unet');
  });
  afterAll(async () => {
    await worker?.stop(5_000);
    await gateway?.dispose();
  });

  const waitFor = (seconds: string) => ({ headers: { prefer: `wait=${seconds}` } });

  describe('on submission', () => {
    it('returns 200 with the job once it succeeds', async () => {
      const started = Date.now();
      const response = await submitJob(gateway, alice, 'nuclei-unet', nucleiPng, waitFor('20'));
      const elapsed = Date.now() - started;

      expect(response.status).toBe(200);
      expect(response.headers.get('preference-applied')).toBe('wait=20');
      expect(response.headers.get('retry-after')).toBeNull();
      const job = (await response.json()) as JobRepresentation;
      expect(job.status).toBe('succeeded');
      expect(job.result?.segmentation?.labels).toEqual(['background', 'nucleus']);
      expect(response.headers.get('location')).toBe(`/v1/jobs/${job.id}`);
      expect(elapsed).toBeLessThan(10_000);
    });

    it('caps the wait at 60 seconds', async () => {
      const response = await submitJob(gateway, alice, 'nuclei-unet', nucleiPng, waitFor('600'));
      expect(response.status).toBe(200);
      expect(response.headers.get('preference-applied')).toBe('wait=60');
    });

    it('answers 202 when the job does not end in time', async () => {
      const started = Date.now();
      const response = await submitJob(gateway, alice, 'brain-gwm', volume, {
        contentType: 'application/x-nifti',
        ...waitFor('1'),
      });
      const elapsed = Date.now() - started;

      expect(response.status).toBe(202);
      expect(response.headers.get('preference-applied')).toBe('wait=1');
      expect(response.headers.get('retry-after')).toBe('1');
      const job = (await response.json()) as JobRepresentation;
      expect(job.status).toBe('queued');
      expect(elapsed).toBeGreaterThanOrEqual(1_000);
      expect(elapsed).toBeLessThan(3_000);
      await gateway.request(`/v1/jobs/${job.id}`, { method: 'DELETE', headers: bearer(alice) });
    });

    it('ignores a wait that is not whole seconds', async () => {
      const response = await submitJob(gateway, alice, 'brain-gwm', volume, {
        contentType: 'application/x-nifti',
        headers: { prefer: 'wait=soon' },
      });
      expect(response.status).toBe(202);
      expect(response.headers.get('preference-applied')).toBeNull();
      const job = (await response.json()) as JobRepresentation;
      await gateway.request(`/v1/jobs/${job.id}`, { method: 'DELETE', headers: bearer(alice) });
    });
  });

  describe('on GET /v1/jobs/{id}', () => {
    it('wakes on the job-ended message', async () => {
      const queued = await submitAccepted(gateway, alice, 'brain-gwm', volume, {
        contentType: 'application/x-nifti',
      });
      const started = Date.now();
      const waiting = getJob(gateway, alice, queued.id, { prefer: 'wait=20' });
      await sleep(300);
      const cancel = await gateway.request(`/v1/jobs/${queued.id}`, {
        method: 'DELETE',
        headers: bearer(alice),
      });
      expect(cancel.status).toBe(200);

      const response = await waiting;
      const elapsed = Date.now() - started;
      expect(response.status).toBe(200);
      expect(response.headers.get('preference-applied')).toBe('wait=20');
      expect(((await response.json()) as JobRepresentation).status).toBe('cancelled');
      expect(elapsed).toBeLessThan(3_000);
    });

    it('returns an ended job at once', async () => {
      const done = await submitJob(gateway, alice, 'nuclei-unet', nucleiPng, waitFor('20'));
      const job = (await done.json()) as JobRepresentation;
      const started = Date.now();
      const response = await getJob(gateway, alice, job.id, { prefer: 'wait=20' });
      expect(response.status).toBe(200);
      expect(((await response.json()) as JobRepresentation).status).toBe('succeeded');
      expect(Date.now() - started).toBeLessThan(1_000);
    });
  });

  describe('when the gateway shuts down', () => {
    let child: Awaited<ReturnType<typeof startGateway>> | undefined;
    afterAll(async () => {
      await child?.kill();
    });

    it('answers waiting requests and exits', async () => {
      child = await startGateway({
        REDIS_URL: testRedisUrl,
        REDIS_PREFIX: gateway.prefix,
        AUTH_JWT_SECRET: testJwtSecret,
        JOB_WAIT_POLL_MS: POLL_MS,
      });
      const queued = await submitAccepted(gateway, alice, 'brain-gwm', volume, {
        contentType: 'application/x-nifti',
      });
      const started = Date.now();
      const waiting = fetch(`${child.baseUrl}/v1/jobs/${queued.id}`, {
        headers: { ...bearer(alice), prefer: 'wait=50' },
      });
      await sleep(500);
      const stopped = child.stop(10_000);

      const response = await waiting;
      expect(response.status).toBe(200);
      expect(((await response.json()) as JobRepresentation).status).toBe('queued');
      expect(Date.now() - started).toBeLessThan(2_000);
      await stopped;
      const { code } = await child.exited;
      expect(code).toBe(0);
      expect(Date.now() - started).toBeLessThan(5_000);
    });
  });
});
