import { gunzipSync } from 'node:zlib';
import type { JobResult } from '@medai-flow/contracts';
import * as nifti from 'nifti-reader-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dataFiles } from '../../test-support/paths.js';
import type { WorkerService } from '../dist/index.js';
import { readBytes, startInProcess, TestClient } from './harness.js';

// The only test that runs brain-gwm: about 5 s and 2.4 GB on two cores.
describe('brain-gwm jobs from the queue', () => {
  let client: TestClient;
  let service: WorkerService;

  beforeAll(async () => {
    client = TestClient.create('brain');
    service = await startInProcess(client.prefix, { WORKER_MODELS: 'brain-gwm', INFERENCE_THREADS: '2' });
  });

  afterAll(async () => {
    await service?.close();
    await client?.close();
  });

  it('MRI volume gives grey and white matter volumes', async () => {
    const id = await client.submitMedia('brain-gwm', 'application/x-nifti', readBytes(dataFiles.mriVolume));
    const record = await client.waitFor(id, undefined, 60_000);
    expect(record.status, JSON.stringify(record.error)).toBe('succeeded');
    const result = record.result as JobResult;
    const volume = (label: string) =>
      result.segmentation?.stats.find((stats) => stats.label === label)?.volumeMl ?? 0;
    console.info(
      `brain MRI: grey ${volume('grey matter').toFixed(1)} mL, white ${volume('white matter').toFixed(1)} mL, preprocess ${result.timings.preprocessMs} ms, inference ${result.timings.inferenceMs} ms`,
    );
    expect(Math.abs(volume('grey matter') - 735) / 735).toBeLessThan(0.02);
    expect(Math.abs(volume('white matter') - 519) / 519).toBeLessThan(0.02);

    expect(result.segmentation?.mask.mediaType).toBe('application/x-nifti+gzip');
    const mask = gunzipSync(Buffer.from(result.segmentation?.mask.data ?? '', 'base64'));
    const buffer = mask.buffer.slice(mask.byteOffset, mask.byteOffset + mask.byteLength) as ArrayBuffer;
    const header = nifti.readHeader(buffer) as nifti.NIFTI1;
    expect(header.dims.slice(0, 4)).toEqual([3, 256, 256, 256]);
    expect(header.datatypeCode).toBe(2);
    expect(header.pixDims.slice(1, 4)).toEqual([1, 1, 1]);
    const labels = new Uint8Array(nifti.readImage(header, buffer));
    const grey = labels.reduce((count, label) => count + (label === 2 ? 1 : 0), 0);
    expect(grey).toBe(result.segmentation?.stats[2]?.count);
    expect(await client.redis.exists(client.keys.input(id))).toBe(0);
  });
});
