import type { JobRecord, JobStore } from '@medai-flow/common';
import type { JobRepresentation } from '@medai-flow/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ServiceProcess } from '../../test-support/processes.js';
import { mintToken } from '../../test-support/tokens.js';
import {
  getJob,
  mriVolume,
  nucleiPng,
  pollJob,
  sleep,
  startTestWorker,
  submitAccepted,
} from './jobs-support.js';
import { createTestGateway, type TestGateway } from './support.js';

const DEADLINE_EXCEEDED = 'https://medai-flow.dev/problems/deadline-exceeded';

describe('job deadlines', () => {
  let gateway: TestGateway;
  let worker: ServiceProcess | undefined;
  let store: JobStore;
  let alice: string;

  beforeAll(async () => {
    gateway = await createTestGateway('jobs-deadline');
    await gateway.publish('nuclei-unet');
    store = gateway.services.store;
    alice = await mintToken({ sub: 'alice', expiresInSeconds: 600 });
  });
  afterAll(async () => {
    await worker?.stop(5_000);
    await gateway.dispose();
  });

  async function recordWhen(id: string, done: (record: JobRecord) => boolean): Promise<JobRecord> {
    const until = Date.now() + 30_000;
    for (;;) {
      const record = await store.get(id);
      if (record && done(record)) return record;
      if (Date.now() > until)
        throw new Error(`job ${id} did not reach the state in time: ${JSON.stringify(record)}`);
      await sleep(100);
    }
  }

  describe('when the deadline passes before the job starts', () => {
    it('expires it on read or on pick-up', async () => {
      const readByGateway = await submitAccepted(gateway, alice, 'nuclei-unet', nucleiPng, {
        query: '?deadline=1',
      });
      const pickedUp = await submitAccepted(gateway, alice, 'nuclei-unet', nucleiPng, {
        query: '?deadline=1',
      });
      expect(readByGateway.deadline).toBe(
        new Date(Date.parse(readByGateway.createdAt) + 1_000).toISOString(),
      );
      await sleep(1_200);

      // No worker runs: the read ends the job and removes it from the queue.
      const response = await getJob(gateway, alice, readByGateway.id);
      expect(response.status).toBe(200);
      const expired = (await response.json()) as JobRepresentation;
      expect(expired.status).toBe('expired');
      expect(expired.error?.type).toBe(DEADLINE_EXCEEDED);
      expect(expired.startedAt).toBeUndefined();
      expect(expired.queuePosition).toBeUndefined();
      const queue = gateway.services.jobs.queueOf('nuclei-unet');
      expect(await queue.getJob(readByGateway.id)).toBeUndefined();
      expect(await gateway.redis.exists(gateway.services.keys.input(readByGateway.id))).toBe(0);

      // The other job is still queued in Redis until a worker picks it up after its deadline.
      expect((await store.get(pickedUp.id))?.status).toBe('queued');
      worker = await startTestWorker(gateway.prefix, 'nuclei-unet,brain-gwm');
      const record = await recordWhen(pickedUp.id, (current) => current.status !== 'queued');
      expect(record.status).toBe('expired');
      expect(record.error?.type).toBe(DEADLINE_EXCEEDED);
      expect(record.startedAt).toBeUndefined();
    });
  });

  describe('when the deadline passes while the job runs', () => {
    it('cancels the job and stops its inference', async () => {
      // brain-gwm takes about 6 s; the deadline stops it after 2.
      const job = await submitAccepted(gateway, alice, 'brain-gwm', mriVolume(), {
        contentType: 'application/x-nifti',
        query: '?deadline=2',
      });
      const ended = await pollJob(
        gateway,
        alice,
        job.id,
        (current) => current.status !== 'queued' && current.status !== 'running',
      );

      expect(ended.status).toBe('cancelled');
      expect(ended.error?.type).toBe(DEADLINE_EXCEEDED);
      expect(ended.startedAt).toBeDefined();
      const finishedAt = Date.parse(ended.finishedAt ?? '');
      expect(finishedAt - Date.parse(job.createdAt)).toBeLessThan(4_000);
      expect(finishedAt).toBeGreaterThanOrEqual(Date.parse(ended.deadline ?? ''));
      // The worker goes on serving: a nuclei job after the cancelled one succeeds.
      const next = await submitAccepted(gateway, alice, 'nuclei-unet', nucleiPng);
      expect(
        (await pollJob(gateway, alice, next.id, (current) => current.status === 'succeeded')).status,
      ).toBe('succeeded');
    });
  });
});
