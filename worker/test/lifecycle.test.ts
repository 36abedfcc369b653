import { sha256Hex } from '@medai-flow/common';
import { type JobResult, MAX_IMAGE_PIXELS } from '@medai-flow/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pngWithSize } from '../../test-support/images.js';
import { dataFiles } from '../../test-support/paths.js';
import type { WorkerService } from '../dist/index.js';
import { largeNucleiPng, metricValue, readBytes, sleep, startInProcess, TestClient } from './harness.js';

describe('nuclei-unet jobs that do not succeed', () => {
  let client: TestClient;
  let service: WorkerService;

  beforeAll(async () => {
    client = TestClient.create('lifecycle');
    service = await startInProcess(client.prefix, { INFERENCE_THREADS: '1' });
  });

  afterAll(async () => {
    await service?.close();
    await client?.close();
  });

  async function succeedsAfterwards(): Promise<void> {
    const id = await client.submitMedia('nuclei-unet', 'image/png', readBytes(dataFiles.nucleiPng));
    const record = await client.waitFor(id);
    expect(record.status, JSON.stringify(record.error)).toBe('succeeded');
  }

  it('cancel message stops a running job', async () => {
    const id = await client.submitMedia('nuclei-unet', 'image/png', await largeNucleiPng());
    await client.waitFor(id, 'running');
    // Past preprocessing (about 0.2 s, longer on a loaded machine), which a cancel now stops
    // before any inference process runs, and well inside the few seconds of its 25 tiles.
    await sleep(1_000);
    const [pid] = service.runtimes[0]?.pool.pids ?? [];
    await client.redis.publish(client.keys.cancelChannel, id);

    const record = await client.waitFor(id, undefined, 10_000);
    expect(record.status).toBe('cancelled');
    expect(record.error?.type).toMatch(/\/job-cancelled$/);
    expect(await client.redis.exists(client.keys.input(id))).toBe(0);
    expect(() => process.kill(pid as number, 0)).toThrow();
    await succeedsAfterwards();
  });

  it('passed deadline expires a job without running it', async () => {
    const id = await client.submitMedia('nuclei-unet', 'image/png', readBytes(dataFiles.nucleiPng), {
      deadlineAt: Date.now() - 1,
    });
    const record = await client.waitFor(id);
    expect(record.status).toBe('expired');
    expect(record.startedAt).toBeUndefined();
    expect(record.error?.type).toMatch(/\/deadline-exceeded$/);
  });

  it('deadline during inference cancels the job', async () => {
    const id = await client.submitMedia('nuclei-unet', 'image/png', await largeNucleiPng(), {
      deadlineAt: Date.now() + 1_000,
    });
    const record = await client.waitFor(id, undefined, 10_000);
    expect(record.status).toBe('cancelled');
    expect(record.startedAt).toBeDefined();
    expect(record.error?.type).toMatch(/\/deadline-exceeded$/);
    expect(record.error?.detail).toBe('the deadline passed while the job was running');
  });

  it('crashed inference process fails only its job', async () => {
    const id = await client.submitMedia('nuclei-unet', 'image/png', await largeNucleiPng());
    await client.waitFor(id, 'running');
    await sleep(200);
    for (const pid of service.runtimes[0]?.pool.pids ?? []) process.kill(pid, 'SIGSEGV');

    const record = await client.waitFor(id, undefined, 10_000);
    expect(record.status).toBe('failed');
    expect(record.error?.type).toMatch(/\/inference-failed$/);
    expect(record.error?.detail).toContain('signal SIGSEGV');
    await succeedsAfterwards();
  });

  it('undecodable image fails with invalid-input', async () => {
    const id = await client.submitMedia(
      'nuclei-unet',
      'image/png',
      new TextEncoder().encode('not a png at all'),
    );
    const record = await client.waitFor(id);
    expect(record.status).toBe('failed');
    expect(record.error?.type).toMatch(/\/invalid-input$/);
    expect(record.error?.detail).toMatch(/^image cannot be decoded/);
  });

  it('image over the pixel limit fails naming it', async () => {
    const id = await client.submitMedia('nuclei-unet', 'image/png', pngWithSize(20_000, 20_000));
    const record = await client.waitFor(id);
    expect(record.status).toBe('failed');
    expect(record.error?.type).toMatch(/\/invalid-input$/);
    expect(record.error?.detail).toBe(
      `the image has 20000 × 20000 = 400000000 pixels; the limit is ${MAX_IMAGE_PIXELS} pixels`,
    );
  });

  it('compressed DICOM fails naming its transfer syntax', async () => {
    const id = await client.submitMedia(
      'nuclei-unet',
      'application/dicom',
      readBytes(dataFiles.dicomCtJpegLs),
    );
    const record = await client.waitFor(id);
    expect(record.status).toBe('failed');
    expect(record.error?.type).toMatch(/\/unsupported-media-type$/);
    expect(record.error?.detail).toContain('1.2.840.10008.1.2.4.80');
  });

  it('DICOM of another modality fails naming both', async () => {
    const id = await client.submitMedia(
      'nuclei-unet',
      'application/dicom',
      readBytes(dataFiles.dicomCtUncompressed),
    );
    const record = await client.waitFor(id);
    expect(record.status).toBe('failed');
    expect(record.error?.detail).toBe('DICOM modality CT is not accepted; the model accepts SM, GM, OT');
  });

  it('tensor input is fed as given with raw outputs', async () => {
    const values = new Float32Array(512 * 512).fill(0);
    const bytes = new Uint8Array(values.buffer);
    const input = {
      kind: 'tensors' as const,
      tensors: [
        {
          name: 'input.1',
          datatype: 'FP32' as const,
          shape: [1, 1, 512, 512],
          byteOffset: 0,
          byteLength: bytes.byteLength,
        },
      ],
      byteLength: bytes.byteLength,
      sha256: sha256Hex(bytes),
    };
    const id = await client.submit('nuclei-unet', input, bytes, { rawOutputs: true });
    const record = await client.waitFor(id);
    expect(record.status, JSON.stringify(record.error)).toBe('succeeded');
    const result = record.result as JobResult;
    expect(result.outputs?.[0]).toMatchObject({ name: '82', datatype: 'FP32', shape: [1, 1, 512, 512] });
    expect(result.outputs?.[0]?.data).toHaveLength(512 * 512);
    expect(result.segmentation?.stats.map((stats) => stats.label)).toEqual(['background', 'nucleus']);
  });

  it('wrong tensor shape fails naming expected and got', async () => {
    const bytes = new Uint8Array(4 * 256 * 256);
    const input = {
      kind: 'tensors' as const,
      tensors: [
        {
          name: 'input.1',
          datatype: 'FP32' as const,
          shape: [1, 1, 256, 256],
          byteOffset: 0,
          byteLength: bytes.byteLength,
        },
      ],
      byteLength: bytes.byteLength,
      sha256: sha256Hex(bytes),
    };
    const record = await client.waitFor(await client.submit('nuclei-unet', input, bytes));
    expect(record.status).toBe('failed');
    expect(record.error?.detail).toBe(
      'input tensor input.1 must be FP32 [1, 1, 512, 512], got float32 [1, 1, 256, 256]',
    );
  });

  it('metrics count outcomes and queue depth', async () => {
    const base = `http://127.0.0.1:${service.metricsPort}`;
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
    const text = await (await fetch(`${base}/metrics`)).text();
    const succeeded = metricValue(text, 'jobs_processed_total{model="nuclei-unet",outcome="succeeded"}') ?? 0;
    expect(succeeded).toBeGreaterThanOrEqual(3);
    expect(metricValue(text, 'jobs_processed_total{model="nuclei-unet",outcome="cancelled"}')).toBe(2);
    expect(metricValue(text, 'jobs_processed_total{model="nuclei-unet",outcome="expired"}')).toBe(1);
    expect(metricValue(text, 'inference_duration_seconds_count{model="nuclei-unet"}')).toBe(succeeded);
    expect(metricValue(text, 'job_queue_wait_seconds_count{model="nuclei-unet"}')).toBeGreaterThanOrEqual(
      succeeded,
    );
    expect(
      metricValue(text, 'inference_batch_size_bucket{le="1",model="nuclei-unet"}'),
    ).toBeGreaterThanOrEqual(succeeded);
    for (const state of ['waiting', 'prioritized', 'active']) {
      expect(metricValue(text, `queue_depth{model="nuclei-unet",state="${state}"}`)).toBe(0);
    }
    expect(text).not.toMatch(/jobId|owner|requestId/);
  });
});
