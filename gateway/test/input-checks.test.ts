import { readFileSync } from 'node:fs';
import { gunzipSync, gzipSync } from 'node:zlib';
import { MAX_IMAGE_PIXELS } from '@medai-flow/contracts';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jpegWithSize, pngWithSize } from '../../test-support/images.js';
import { dataFiles } from '../../test-support/paths.js';
import { mintToken } from '../../test-support/tokens.js';
import { readJpegSize, readPngSize } from '../src/jobs/image-size.js';
import { bearer, createTestGateway, problemOf, type TestGateway } from './support.js';

/** Bytes of the uncompressed MRI volume: a 352-byte header and 256^3 uint8 voxels. */
const MRI_BYTES = 352 + 256 ** 3;

describe('submission checks before 202', () => {
  let gateway: TestGateway;
  let alice: string;
  let mriRaw: Buffer;
  beforeAll(async () => {
    gateway = await createTestGateway('input-checks', { env: { MAX_BODY_BYTES: String(32 * 1024 * 1024) } });
    await gateway.publish('nuclei-unet');
    await gateway.publish('brain-gwm');
    alice = await mintToken({ sub: 'alice', expiresInSeconds: 600 });
    mriRaw = gunzipSync(readFileSync(dataFiles.mriVolume));
  });
  afterAll(() => gateway.dispose());

  const submit = (model: string, contentType: string, body: Uint8Array) =>
    gateway.request(`/v1/models/${model}/jobs`, {
      method: 'POST',
      headers: { ...bearer(alice), 'content-type': contentType },
      body,
    });

  it('accepts the whole raw volume', async () => {
    expect(mriRaw.byteLength).toBe(MRI_BYTES);
    const response = await submit('brain-gwm', 'application/x-nifti', mriRaw);
    expect(response.status).toBe(202);
  });

  it('rejects a truncated raw volume', async () => {
    const truncated = mriRaw.subarray(0, MRI_BYTES / 2);
    const response = await submit('brain-gwm', 'application/x-nifti', truncated);
    expect(response.status).toBe(422);
    const problem = await problemOf(response);
    expect(problem.expected).toBe(MRI_BYTES);
    expect(problem.received).toBe(truncated.byteLength);
    expect(problem.detail).toContain(String(MRI_BYTES));
  });

  it('rejects a gzip of a truncated volume', async () => {
    const response = await submit(
      'brain-gwm',
      'application/x-nifti',
      gzipSync(mriRaw.subarray(0, 8_000_000)),
    );
    expect(response.status).toBe(422);
    const problem = await problemOf(response);
    expect(problem.expected).toBe(MRI_BYTES);
    expect(problem.received).toBe(8_000_000);
  });

  it('rejects a truncated gzip stream', async () => {
    const gzip = readFileSync(dataFiles.mriVolume);
    const response = await submit(
      'brain-gwm',
      'application/x-nifti',
      gzip.subarray(0, gzip.byteLength - 1000),
    );
    expect(response.status).toBe(422);
    expect((await problemOf(response)).expected).toBe(MRI_BYTES);
  });

  it('rejects an unsupported NIfTI datatype', async () => {
    const volume = Buffer.from(mriRaw);
    volume.writeInt16LE(128, 70);
    const response = await submit('brain-gwm', 'application/x-nifti', volume);
    expect(response.status).toBe(422);
    expect((await problemOf(response)).detail).toContain('datatype 128');
  });

  it('rejects a PNG over the pixel limit', async () => {
    const response = await submit('nuclei-unet', 'image/png', pngWithSize(20_000, 20_000));
    expect(response.status).toBe(422);
    const problem = await problemOf(response);
    expect(problem.detail).toContain(String(MAX_IMAGE_PIXELS));
    expect(problem.detail).toContain('20000 × 20000');
    expect(problem.received).toEqual({ width: 20_000, height: 20_000, pixels: 400_000_000 });
  });

  it('rejects a JPEG over the pixel limit', async () => {
    const response = await submit('nuclei-unet', 'image/jpeg', jpegWithSize(30_000, 10_000));
    expect(response.status).toBe(422);
    expect((await problemOf(response)).detail).toContain('30000 × 10000');
  });

  it('rejects a PNG without IEND with 400', async () => {
    const png = readFileSync(dataFiles.nucleiPng);
    const response = await submit('nuclei-unet', 'image/png', png.subarray(0, png.byteLength - 12));
    expect(response.status).toBe(400);
    expect((await problemOf(response)).detail).toContain('IEND');
  });

  it('accepts a JPEG within the limit', async () => {
    const jpeg = await sharp(readFileSync(dataFiles.nucleiPng)).jpeg().toBuffer();
    const response = await submit('nuclei-unet', 'image/jpeg', jpeg);
    expect(response.status).toBe(202);
  });
});

describe('image header readers', () => {
  it('reads the size of the nuclei PNG', async () => {
    const png = readFileSync(dataFiles.nucleiPng);
    const { width, height } = await sharp(png).metadata();
    expect(readPngSize(png)).toEqual({ width, height });
  });

  it('reads JPEG sizes past APP segments', async () => {
    const jpeg = await sharp({ create: { width: 301, height: 77, channels: 3, background: '#808080' } })
      .withMetadata({ exif: { IFD0: { Copyright: 'test' } } })
      .jpeg({ progressive: true })
      .toBuffer();
    expect(readJpegSize(jpeg)).toEqual({ width: 301, height: 77 });
  });

  it('gives no JPEG size without SOF', () => {
    expect(readJpegSize(Buffer.from([0xff, 0xd8, 0xff, 0xda, 0x00, 0x02, 0xff, 0xd9]))).toBeUndefined();
  });
});
