import type { SpawnOptions } from '@medai-flow/testkit';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { type ServiceProcess, startWorker } from '../../test-support/processes.js';
import { largeNucleiPng, metricValue, sleep, TestClient, workerProcessEnv } from './harness.js';

const running: ServiceProcess[] = [];
const clients: TestClient[] = [];

async function worker(prefix: string, overrides: Record<string, string> = {}, options: SpawnOptions = {}) {
  const started = await startWorker(workerProcessEnv(prefix, overrides), options);
  running.push(started);
  return started;
}

function client(name: string): TestClient {
  const created = TestClient.create(name);
  clients.push(created);
  return created;
}

/** Submits a job of a few seconds and resolves once a worker has started it. */
async function startLongJob(testClient: TestClient): Promise<string> {
  const id = await testClient.submitMedia('nuclei-unet', 'image/png', await largeNucleiPng());
  await testClient.waitFor(id, 'running');
  await sleep(300);
  return id;
}

function startedLines(process: ServiceProcess, jobId: string) {
  return process.logs.filter((line) => line.msg === 'job started' && line.jobId === jobId);
}

afterEach(async () => {
  await Promise.all(running.splice(0).map((process) => process.kill('SIGKILL')));
  await Promise.all(clients.splice(0).map((created) => created.close()));
});

describe('worker killed with SIGKILL mid-job', () => {
  it('job is taken over and succeeds once', async () => {
    const testClient = client('sigkill');
    const first = await worker(testClient.prefix);
    const id = await startLongJob(testClient);
    await first.kill('SIGKILL');

    const second = await worker(testClient.prefix);
    const record = await testClient.waitFor(id, undefined, 45_000);
    expect(record.status, JSON.stringify(record.error)).toBe('succeeded');
    expect(startedLines(second, id)).toHaveLength(1);
    // The record is marked succeeded before the worker logs it and counts it.
    await vi.waitFor(() =>
      expect(second.logs.filter((line) => line.msg === 'job succeeded' && line.jobId === id)).toHaveLength(1),
    );
    const metrics = await (await fetch(`http://127.0.0.1:${second.metricsPort}/metrics`)).text();
    expect(metricValue(metrics, 'jobs_processed_total{model="nuclei-unet",outcome="succeeded"}')).toBe(1);
    expect(await testClient.redis.exists(testClient.keys.input(id))).toBe(0);
  });

  it('job lost beyond MAX_STALLED_COUNT fails as worker-lost', async () => {
    const testClient = client('worker-lost');
    const first = await worker(testClient.prefix, { MAX_STALLED_COUNT: '0' });
    const id = await startLongJob(testClient);
    await first.kill('SIGKILL');

    const second = await worker(testClient.prefix, { MAX_STALLED_COUNT: '0' });
    const record = await testClient.waitFor(id, undefined, 45_000);
    expect(record.status).toBe('failed');
    expect(record.error?.type).toMatch(/\/worker-lost$/);
    expect(startedLines(second, id)).toHaveLength(0);
    expect(await testClient.redis.exists(testClient.keys.input(id))).toBe(0);
  });
});

describe('worker stopped with SIGTERM', () => {
  it('finishes its running job and exits 0', async () => {
    const testClient = client('drain');
    const process = await worker(testClient.prefix, { DRAIN_GRACE_SECONDS: '60' });
    const id = await startLongJob(testClient);
    const waiting = await testClient.submitMedia('nuclei-unet', 'image/png', await largeNucleiPng());
    await process.kill('SIGTERM');

    expect((await process.exited).code).toBe(0);
    expect((await testClient.store.get(id))?.status).toBe('succeeded');
    expect((await testClient.store.get(waiting))?.status).toBe('queued');
    expect(await testClient.queue('nuclei-unet').getJobState(waiting)).toBe('prioritized');
  });

  it('drains on Ctrl-C in its terminal', async () => {
    const testClient = client('sigint-group');
    const process = await worker(testClient.prefix, {}, { detached: true });
    const id = await startLongJob(testClient);
    // Ctrl-C signals the whole process group: the worker and its inference processes.
    process.signalGroup('SIGINT');

    expect((await process.exited).code).toBe(0);
    expect((await testClient.store.get(id))?.status).toBe('succeeded');
    expect(process.logs.some((line) => line.msg === 'inference process exited')).toBe(false);
  });

  it('returns a job still running after the grace period', async () => {
    const testClient = client('drain-grace');
    const process = await worker(testClient.prefix, { DRAIN_GRACE_SECONDS: '0' });
    const id = await startLongJob(testClient);
    await process.kill('SIGTERM');

    expect((await process.exited).code).toBe(0);
    expect(process.logs.some((line) => line.msg === 'job returned to queue' && line.jobId === id)).toBe(true);
    expect(await testClient.queue('nuclei-unet').getJobState(id)).toBe('prioritized');
    const handedBack = await testClient.store.get(id);
    expect(handedBack?.status).toBe('queued');
    expect(handedBack?.startedAt).toBeUndefined();

    await worker(testClient.prefix);
    expect((await testClient.waitFor(id, undefined, 45_000)).status).toBe('succeeded');
  });
});
