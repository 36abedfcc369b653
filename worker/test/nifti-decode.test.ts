import { constants, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { niftiFile } from '../../test-support/nifti.js';
import { decodeNifti, JobFailure } from '../dist/index.js';

const dims: [number, number, number] = [4, 4, 4];
const values = Array.from({ length: 64 }, (_, i) => i);

/** Expects `promise` to fail the job with `invalid-input` and a message matching `message`. */
async function expectInvalid(promise: Promise<unknown>, message: RegExp): Promise<void> {
  const error = await promise.then(
    () => undefined,
    (rejection: unknown) => rejection,
  );
  expect(error).toBeInstanceOf(JobFailure);
  expect((error as JobFailure).code).toBe('invalid-input');
  expect((error as JobFailure).message).toMatch(message);
}

describe('NIfTI decoding', () => {
  it('decodes an exact gzip volume', async () => {
    const volume = await decodeNifti(gzipSync(niftiFile({ dims, values })), [4, 4, 4]);
    expect(volume.dims).toEqual(dims);
    expect(Array.from(volume.data)).toEqual(values);
    expect(volume.geometry?.header.byteLength).toBe(348);
    expect(volume.voxelVolumeMm3).toBe(1);
  });

  it('rejects a second gzip member', async () => {
    // The gzip trailer holds only the last member's size, so this one passes the gateway's check.
    const bomb = Buffer.concat([gzipSync(niftiFile({ dims, values })), gzipSync(Buffer.alloc(64 * 2 ** 20))]);
    await expectInvalid(
      decodeNifti(bomb, [4, 4, 4]),
      /inflates to more than the 608 bytes its header describes/,
    );
  });

  it('rejects a gzip volume that ends early', async () => {
    const short = gzipSync(niftiFile({ dims, values }).subarray(0, 500));
    await expectInvalid(decodeNifti(short), /inflates to 500 bytes, its header describes 608/);
  });

  it('rejects another shape before inflating', async () => {
    // A stream that breaks after the header and 1 MiB of voxels: only a decoder that stops after
    // the header can report the shape instead of the broken stream.
    const start = gzipSync(niftiFile({ dims: [256, 256, 4], datatype: 2 }), {
      finishFlush: constants.Z_SYNC_FLUSH,
    });
    const stream = Buffer.concat([start, Buffer.from('not deflate data')]);
    await expectInvalid(
      decodeNifti(stream, [4, 4, -1]),
      /volume is 256x256x4 voxels, but the model takes 4x4x-1/,
    );
  });

  it('rejects a header describing over 1 GiB', async () => {
    const header = niftiFile({ dims: [2048, 2048, 64] }).subarray(0, 352);
    await expectInvalid(
      decodeNifti(gzipSync(header)),
      /describes 1073742176 bytes, more than the 1073741824/,
    );
  });

  it('rejects a raw volume that ends early', async () => {
    await expectInvalid(
      decodeNifti(niftiFile({ dims, values }).subarray(0, 400)),
      /has 400 bytes, its header describes 608/,
    );
  });
});
