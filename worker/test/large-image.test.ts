import { MAX_IMAGE_PIXELS } from '@medai-flow/contracts';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pngWithSize } from '../../test-support/images.js';
import type { WorkerService } from '../dist/index.js';
import { largeNucleiPng, metricValue, startInProcess, TestClient } from './harness.js';

/** Encodes a mid-grey PNG of `width` × `height`, which is small to send and slow to decode and normalise. */
function greyPng(width: number, height: number): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background: { r: 128, g: 128, b: 128 } } })
    .png()
    .toBuffer();
}

describe('nuclei-unet jobs with large images', () => {
  let client: TestClient;
  let service: WorkerService;

  beforeAll(async () => {
    client = TestClient.create('large-image');
    service = await startInProcess(client.prefix, { INFERENCE_THREADS: '1' });
  });

  afterAll(async () => {
    await service?.close();
    await client?.close();
  });

  it('pixel limit is 8192 squared', () => {
    expect(MAX_IMAGE_PIXELS).toBe(8192 * 8192);
  });

  it('image just over the limit fails', async () => {
    const id = await client.submitMedia('nuclei-unet', 'image/png', pngWithSize(8193, 8192));
    const record = await client.waitFor(id);
    expect(record.status).toBe('failed');
    expect(record.error?.detail).toBe(
      'the image has 8193 × 8192 = 67117056 pixels; the limit is 67108864 pixels',
    );
  });

  it('cancel during preprocessing ends the job before inference', async () => {
    // Decoding this image takes about 0.6 s and normalising it 1.5 s on a 2-core test machine,
    // and its 324 tiles would take about a minute of inference.
    const inferencesBefore = await inferenceCount();
    const id = await client.submitMedia('nuclei-unet', 'image/png', await greyPng(8192, 8192));
    await client.waitFor(id, 'running');
    expect(await client.store.requestCancel(id)).toBe(true);

    const record = await client.waitFor(id, undefined, 30_000);
    expect(record.status).toBe('cancelled');
    expect(record.error?.type).toMatch(/\/job-cancelled$/);
    expect(await inferenceCount()).toBeLessThanOrEqual(inferencesBefore + 1);
  });

  /** Inference runs of nuclei-unet so far (one per tile). */
  async function inferenceCount(): Promise<number> {
    const text = await service.metrics.registry.metrics();
    return metricValue(text, 'inference_duration_seconds_count{model="nuclei-unet"}') ?? 0;
  }
});

describe('raw outputs of large images', () => {
  let client: TestClient;
  let service: WorkerService;

  beforeAll(async () => {
    client = TestClient.create('raw-outputs');
    service = await startInProcess(client.prefix, { INFERENCE_THREADS: '1' });
  });

  afterAll(async () => {
    await service?.close();
    await client?.close();
  });

  it('2048 squared raw output fails naming the limit', async () => {
    const id = await client.submitMedia('nuclei-unet', 'image/png', await largeNucleiPng(), {
      rawOutputs: true,
    });
    const record = await client.waitFor(id);
    expect(record.status).toBe('failed');
    expect(record.error?.type).toMatch(/\/invalid-input$/);
    expect(record.error?.detail).toBe(
      'raw outputs of nuclei-unet would have 4194304 elements; the limit is 1048576 elements (MAX_RAW_OUTPUT_ELEMENTS), so submit a smaller input or omit outputs=raw',
    );
  });
});
