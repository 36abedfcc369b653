import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type JobInput, ModelManifestSchema } from '@medai-flow/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { niftiFile } from '../../test-support/nifti.js';
import { dataFiles, modelRepositoryDir } from '../../test-support/paths.js';
import { JobFailure, prepareInput, type WorkerService } from '../dist/index.js';
import { startInProcess, TestClient } from './harness.js';

/** Replaces the value of an explicit VR element with a 16-bit length, keeping the file walkable. */
function replaceElement(file: Buffer, tag: [number, number], value: string): Buffer {
  const header = Buffer.alloc(4);
  header.writeUInt16LE(tag[0], 0);
  header.writeUInt16LE(tag[1], 2);
  const start = file.indexOf(header);
  if (start < 0) throw new Error(`tag ${tag.join(',')} not found`);
  const length = file.readUInt16LE(start + 6);
  const padded = Buffer.from(value.length % 2 === 0 ? value : `${value} `, 'latin1');
  const lengthField = Buffer.alloc(2);
  lengthField.writeUInt16LE(padded.length);
  return Buffer.concat([file.subarray(0, start + 6), lengthField, padded, file.subarray(start + 8 + length)]);
}

/** Rewrites the uncompressed CT file as modality OT (which nuclei-unet accepts) with another rescale slope. */
function dicomWithSlope(slope: string): Uint8Array {
  const ct = readFileSync(dataFiles.dicomCtUncompressed);
  return new Uint8Array(replaceElement(replaceElement(ct, [0x0028, 0x1053], slope), [0x0008, 0x0060], 'OT'));
}

const brainManifest = ModelManifestSchema.parse(
  JSON.parse(readFileSync(join(modelRepositoryDir, 'brain-gwm', 'model.json'), 'utf8')),
);
const niftiInput = (bytes: Uint8Array): JobInput => ({
  kind: 'media',
  mediaType: 'application/x-nifti',
  byteLength: bytes.byteLength,
  sha256: '0'.repeat(64),
});

async function preparationError(bytes: Uint8Array): Promise<JobFailure> {
  const error = await prepareInput(brainManifest, niftiInput(bytes), bytes).then(
    () => undefined,
    (rejection: unknown) => rejection,
  );
  expect(error).toBeInstanceOf(JobFailure);
  return error as JobFailure;
}

describe('NIfTI volumes with non-finite voxels', () => {
  const voxels = 256 ** 3;

  it('NaN voxels fail as invalid input', async () => {
    const values = new Float32Array(voxels).fill(Number.NaN);
    const error = await preparationError(niftiFile({ dims: [256, 256, 256], values }));
    expect(error.code).toBe('invalid-input');
    expect(error.message).toBe(
      `the NIfTI volume after decoding and scaling has ${voxels} NaN and 0 infinite values out of ${voxels} (the first at index 0); check the stored values and their rescale slope and intercept`,
    );
  });

  it('infinite voxels fail before minmax hides them', async () => {
    const values = new Float32Array(voxels).fill(Number.POSITIVE_INFINITY);
    const error = await preparationError(niftiFile({ dims: [256, 256, 256], values }));
    expect(error.code).toBe('invalid-input');
    expect(error.message).toContain(`has 0 NaN and ${voxels} infinite values`);
  });
});

describe('DICOM images with non-finite rescaling', () => {
  let client: TestClient;
  let service: WorkerService;

  beforeAll(async () => {
    client = TestClient.create('non-finite');
    service = await startInProcess(client.prefix, { INFERENCE_THREADS: '1' });
  });

  afterAll(async () => {
    await service?.close();
    await client?.close();
  });

  it('rescale slope 1e309 fails the job', async () => {
    const id = await client.submitMedia('nuclei-unet', 'application/dicom', dicomWithSlope('1e309'));
    const record = await client.waitFor(id);
    expect(record.status).toBe('failed');
    expect(record.error?.type).toMatch(/\/invalid-input$/);
    expect(record.error?.detail).toMatch(
      /^the DICOM image after decoding and rescaling has \d+ NaN and \d+ infinite values/,
    );
  });

  it('finite rescale slope succeeds', async () => {
    const id = await client.submitMedia('nuclei-unet', 'application/dicom', dicomWithSlope('2'));
    const record = await client.waitFor(id);
    expect(record.status, JSON.stringify(record.error)).toBe('succeeded');
  });
});
