import type { JobRecord, JobStore } from '@medai-flow/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ServiceProcess } from '../../test-support/processes.js';
import { mintToken } from '../../test-support/tokens.js';
import { nucleiPng, sleep, startTestWorker, submitAccepted } from './jobs-support.js';
import { createTestGateway, type TestGateway } from './support.js';

const ROUTINE_JOBS = 50;

describe('priority classes', () => {
  let gateway: TestGateway;
  let worker: ServiceProcess | undefined;
  let store: JobStore;
  let alice: string;

  beforeAll(async () => {
    gateway = await createTestGateway('jobs-priority');
    await gateway.publish('nuclei-unet');
    store = gateway.services.store;
    alice = await mintToken({ sub: 'alice', expiresInSeconds: 600 });
  });
  afterAll(async () => {
    await worker?.stop(5_000);
    await gateway.dispose();
  });

  /** Reads the records until `enough` of them hold, then returns them all. */
  async function readUntil(ids: string[], enough: (records: JobRecord[]) => boolean): Promise<JobRecord[]> {
    const until = Date.now() + 30_000;
    for (;;) {
      const records = await Promise.all(
        ids.map(async (id) => (await store.get(id)) ?? Promise.reject(new Error(`job ${id} is missing`))),
      );
      if (enough(records)) return records;
      if (Date.now() > until)
        throw new Error(
          `jobs did not progress in time: ${JSON.stringify(records.map((record) => record.status))}`,
        );
      await sleep(100);
    }
  }

  it('starts a stat job before 50 queued routine jobs', async () => {
    const batch = await submitAccepted(gateway, alice, 'nuclei-unet', nucleiPng, {
      query: '?priority=batch',
    });
    const routine: string[] = [];
    for (let i = 0; i < ROUTINE_JOBS; i += 1) {
      routine.push((await submitAccepted(gateway, alice, 'nuclei-unet', nucleiPng)).id);
    }
    const stat = await submitAccepted(gateway, alice, 'nuclei-unet', nucleiPng, { query: '?priority=stat' });
    expect(stat.priority).toBe('stat');
    expect(stat.queuePosition).toBe(0);

    worker = await startTestWorker(gateway.prefix, 'nuclei-unet');
    // The stat job and a few routine jobs are enough to see the order; the rest need not run.
    const records = await readUntil([stat.id, ...routine], (current) => {
      const [first, ...rest] = current;
      return (
        first?.status === 'succeeded' && rest.filter((record) => record.status === 'succeeded').length >= 3
      );
    });
    const [statRecord, ...routineRecords] = records;
    const statStart = statRecord?.startedAt ?? Number.NaN;
    const started = routineRecords.filter((record) => record.startedAt !== undefined);

    expect(started.length).toBeGreaterThanOrEqual(3);
    for (const record of started) expect(record.startedAt, record.id).toBeGreaterThan(statStart);
    for (const record of routineRecords.filter((candidate) => candidate.startedAt === undefined)) {
      expect(record.status).toBe('queued');
    }
    // Jobs of one class start in submission order.
    expect(started.map((record) => record.id)).toEqual(routine.slice(0, started.length));
    const batchRecord = await store.get(batch.id);
    expect(batchRecord?.status).toBe('queued');
  });
});
