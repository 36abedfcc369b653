import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';
import * as nifti from 'nifti-reader-js';
import { JobFailure } from '../errors.js';
import type { Volume } from './types.js';

const gunzipAsync = promisify(gunzip);

/** Largest decompressed NIfTI file, in bytes, so that a small gzip bomb cannot exhaust memory. */
const MAX_NIFTI_BYTES = 2 ** 30;

/** NIfTI-1 header size; the label volume written back keeps these bytes of the input. */
export const NIFTI1_HEADER_BYTES = 348;

/**
 * Decodes a NIfTI-1 volume, raw or gzip-compressed (detected by the gzip magic bytes
 * 1f 8b), into float32 voxels with `scl_slope`/`scl_inter` applied. The voxel volume comes
 * from `pixdim[1..3]` in mm.
 */
export async function decodeNifti(bytes: Uint8Array): Promise<Volume> {
  const raw = await decompress(bytes);
  const buffer = raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength) as ArrayBuffer;
  if (!nifti.isNIFTI1(buffer)) {
    throw new JobFailure(
      'unsupported-media-type',
      'input is not a NIfTI-1 file (NIfTI-2 and other formats are not supported)',
    );
  }
  const header = nifti.readHeader(buffer) as nifti.NIFTI1;
  const dims = spatialDims(header);
  const data = toFloat32(header, nifti.readImage(header, buffer), dims[0] * dims[1] * dims[2]);
  applyScaling(data, header.scl_slope, header.scl_inter);
  const volume: Volume = {
    dims,
    data,
    geometry: {
      header: new Uint8Array(buffer, 0, NIFTI1_HEADER_BYTES).slice(),
      littleEndian: header.littleEndian,
    },
  };
  const [, dx = 0, dy = 0, dz = 0] = header.pixDims.map(Math.abs);
  if (dx > 0 && dy > 0 && dz > 0) volume.voxelVolumeMm3 = dx * dy * dz;
  return volume;
}

async function decompress(bytes: Uint8Array): Promise<Uint8Array> {
  if (bytes[0] !== 0x1f || bytes[1] !== 0x8b) return bytes;
  try {
    return await gunzipAsync(bytes, { maxOutputLength: MAX_NIFTI_BYTES });
  } catch (error) {
    throw new JobFailure(
      'invalid-input',
      `gzip-compressed NIfTI cannot be decompressed: ${(error as Error).message}`,
      {
        cause: error,
      },
    );
  }
}

function spatialDims(header: nifti.NIFTI1): [number, number, number] {
  const [rank = 0, x = 0, y = 0, z = 0, ...rest] = header.dims;
  const extra = rest.slice(0, Math.max(0, rank - 3));
  if (rank < 3 || x < 1 || y < 1 || z < 1 || extra.some((dim) => dim > 1)) {
    throw new JobFailure(
      'invalid-input',
      `NIfTI volume must be 3D; its dim field is [${header.dims.join(', ')}]`,
    );
  }
  return [x, y, z];
}

/** NIfTI datatype codes read here, with their element size in bytes. */
const DATATYPES: Record<
  number,
  { bytes: number; read: (view: DataView, offset: number, le: boolean) => number }
> = {
  2: { bytes: 1, read: (view, offset) => view.getUint8(offset) },
  4: { bytes: 2, read: (view, offset, le) => view.getInt16(offset, le) },
  8: { bytes: 4, read: (view, offset, le) => view.getInt32(offset, le) },
  16: { bytes: 4, read: (view, offset, le) => view.getFloat32(offset, le) },
  64: { bytes: 8, read: (view, offset, le) => view.getFloat64(offset, le) },
  256: { bytes: 1, read: (view, offset) => view.getInt8(offset) },
  512: { bytes: 2, read: (view, offset, le) => view.getUint16(offset, le) },
  768: { bytes: 4, read: (view, offset, le) => view.getUint32(offset, le) },
};

function toFloat32(header: nifti.NIFTI1, image: ArrayBuffer, voxels: number): Float32Array {
  const datatype = DATATYPES[header.datatypeCode];
  if (!datatype) {
    throw new JobFailure(
      'invalid-input',
      `NIfTI datatype ${header.datatypeCode} is not supported (use an integer or float type)`,
    );
  }
  if (image.byteLength < voxels * datatype.bytes) {
    throw new JobFailure(
      'invalid-input',
      `NIfTI image data has ${image.byteLength} bytes, expected ${voxels * datatype.bytes}`,
    );
  }
  const view = new DataView(image);
  const data = new Float32Array(voxels);
  for (let i = 0; i < voxels; i += 1) data[i] = datatype.read(view, i * datatype.bytes, header.littleEndian);
  return data;
}

function applyScaling(data: Float32Array, slope: number, intercept: number): void {
  // NIfTI-1: a zero slope means the stored values are not scaled.
  if (!Number.isFinite(slope) || slope === 0 || (slope === 1 && intercept === 0)) return;
  for (let i = 0; i < data.length; i += 1) data[i] = (data[i] as number) * slope + intercept;
}
