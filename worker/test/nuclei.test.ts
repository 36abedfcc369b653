import { join } from 'node:path';
import type { JobResult } from '@medai-flow/contracts';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { readNpy } from '../../test-support/npy.js';
import { dataFiles, modelMirrorDir, modelRepositoryDir } from '../../test-support/paths.js';
import {
  InferencePool,
  inferImage,
  normalizeInPlace,
  readManifest,
  sigmoid,
  type WorkerService,
} from '../dist/index.js';
import { readBytes, startInProcess, TestClient } from './harness.js';

const NUCLEI_SHA256 = '85f5ac80fa977fea3562ef97c8c5950288be2c4f4cdb5d994807df97008ce088';

/** Builds the reference mask: expected probabilities > 0.5. */
function referenceMask(): Uint8Array {
  const expected = readNpy(dataFiles.nucleiExpectedNpy);
  return Uint8Array.from(expected.data, (probability) => (probability > 0.5 ? 1 : 0));
}

function dice(a: Uint8Array, b: Uint8Array): number {
  let both = 0;
  let sum = 0;
  for (let i = 0; i < a.length; i += 1) {
    both += (a[i] ?? 0) & (b[i] ?? 0);
    sum += (a[i] ?? 0) + (b[i] ?? 0);
  }
  return (2 * both) / sum;
}

async function decodeMask(result: JobResult): Promise<{ labels: Uint8Array; width: number; height: number }> {
  const png = Buffer.from(result.segmentation?.mask.data ?? '', 'base64');
  const { data, info } = await sharp(png).toColourspace('b-w').raw().toBuffer({ resolveWithObject: true });
  expect((await sharp(png).metadata()).channels).toBe(1);
  return { labels: new Uint8Array(data), width: info.width, height: info.height };
}

describe('nuclei-unet inference path', () => {
  it('input.npy matches expected.npy within 1e-4', async () => {
    const manifest = await readManifest(join(modelRepositoryDir, 'nuclei-unet/model.json'), 'nuclei-unet');
    const input = readNpy(dataFiles.nucleiInputNpy);
    const expected = readNpy(dataFiles.nucleiExpectedNpy);
    expect(input.shape).toEqual([1, 1, 512, 512]);
    const { pool } = await InferencePool.start({
      modelPath: join(modelMirrorDir, 'nuclei-unet/model.onnx'),
      intraOpThreads: 2,
      size: 1,
    });
    try {
      const image = {
        width: 512,
        height: 512,
        data: normalizeInPlace(input.data, manifest.preprocessing.normalize),
      };
      const { output } = await inferImage(pool, manifest, image, new AbortController().signal);
      const scores = output.data as Float32Array;
      let maxDiff = 0;
      for (let i = 0; i < scores.length; i += 1) {
        maxDiff = Math.max(maxDiff, Math.abs(sigmoid(scores[i] as number) - (expected.data[i] as number)));
      }
      expect(output.dims).toEqual([1, 1, 512, 512]);
      expect(maxDiff).toBeLessThan(1e-4);
    } finally {
      await pool.close();
    }
  });
});

describe('nuclei-unet jobs from the queue', () => {
  let client: TestClient;
  let service: WorkerService;

  beforeAll(async () => {
    client = TestClient.create('nuclei');
    service = await startInProcess(client.prefix);
  });

  afterAll(async () => {
    await service?.close();
    await client?.close();
  });

  it('PNG mask matches the reference', async () => {
    const id = await client.submitMedia('nuclei-unet', 'image/png', readBytes(dataFiles.nucleiPng));
    const record = await client.waitFor(id);
    expect(record.status, JSON.stringify(record.error)).toBe('succeeded');
    const result = record.result as JobResult;
    expect(result.model).toEqual({ name: 'nuclei-unet', version: '0.5.0', sha256: NUCLEI_SHA256 });
    expect(result.timings.inferenceMs).toBeGreaterThan(0);
    expect(result.timings.queueMs).toBeGreaterThanOrEqual(0);
    expect(result.outputs).toBeUndefined();

    const mask = await decodeMask(result);
    expect([mask.width, mask.height]).toEqual([512, 512]);
    const nucleus = result.segmentation?.stats.find((stats) => stats.label === 'nucleus');
    expect(Math.abs((nucleus?.fraction ?? 0) * 100 - 20.7)).toBeLessThan(0.5);
    expect(dice(mask.labels, referenceMask())).toBeGreaterThanOrEqual(0.99);
    console.info(
      `nuclei PNG: foreground ${((nucleus?.fraction ?? 0) * 100).toFixed(2)} %, Dice ${dice(mask.labels, referenceMask()).toFixed(4)}, inference ${result.timings.inferenceMs} ms`,
    );
  });

  it('finished job leaves no input or BullMQ job', async () => {
    const id = await client.submitMedia('nuclei-unet', 'image/png', readBytes(dataFiles.nucleiPng));
    await client.waitFor(id, 'succeeded');
    expect(await client.redis.exists(client.keys.input(id))).toBe(0);
    // The record is marked succeeded before BullMQ completes and removes the job.
    await vi.waitFor(async () => expect(await client.queue('nuclei-unet').getJob(id)).toBeUndefined());
    expect(await client.redis.ttl(client.keys.job(id))).toBeGreaterThan(0);
  });

  it('smaller image is tiled and returned at its size', async () => {
    const crop = await sharp(dataFiles.nucleiPng)
      .extract({ left: 40, top: 100, width: 300, height: 380 })
      .png()
      .toBuffer();
    const id = await client.submitMedia('nuclei-unet', 'image/png', crop);
    const record = await client.waitFor(id);
    expect(record.status, JSON.stringify(record.error)).toBe('succeeded');
    const mask = await decodeMask(record.result as JobResult);
    expect([mask.width, mask.height]).toEqual([300, 380]);
    const reference = referenceMask();
    const referenceCrop = new Uint8Array(300 * 380);
    for (let y = 0; y < 380; y += 1) {
      for (let x = 0; x < 300; x += 1) referenceCrop[y * 300 + x] = reference[(y + 100) * 512 + x + 40] ?? 0;
    }
    expect(dice(mask.labels, referenceCrop)).toBeGreaterThanOrEqual(0.95);
  });
});
