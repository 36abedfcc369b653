import { promisify } from 'node:util';
import { createGunzip, gunzip } from 'node:zlib';
import * as nifti from 'nifti-reader-js';
import { JobFailure } from '../errors.js';
import type { Volume } from './types.js';

const gunzipAsync = promisify(gunzip);

/** Largest uncompressed NIfTI file (header plus voxels), in bytes, checked before inflating. */
const MAX_NIFTI_BYTES = 2 ** 30;

/** NIfTI-1 header size; the label volume written back keeps these bytes of the input. */
export const NIFTI1_HEADER_BYTES = 348;

/** Spatial size a model takes, x, y and z in voxels, -1 where any size goes. */
export type VolumeShape = readonly [x: number, y: number, z: number];

/**
 * Decodes a NIfTI-1 volume, raw or gzip-compressed (detected by the gzip magic bytes
 * 1f 8b), into float32 voxels with `scl_slope`/`scl_inter` applied. The voxel volume comes
 * from `pixdim[1..3]` in mm. The header is read first: a volume whose dimensions differ from
 * `expected`, or whose size passes `MAX_NIFTI_BYTES`, fails before it is inflated, and a gzip
 * stream is inflated with its output capped at exactly the size the header describes.
 */
export async function decodeNifti(bytes: Uint8Array, expected?: VolumeShape): Promise<Volume> {
  const compressed = bytes[0] === 0x1f && bytes[1] === 0x8b;
  const headerBytes = compressed ? await inflatePrefix(bytes, NIFTI1_HEADER_BYTES) : bytes;
  const header = readNiftiHeader(headerBytes);
  const dims = spatialDims(header);
  if (expected) checkShape(dims, expected);

  const datatype = datatypeOf(header);
  const voxelOffset = Math.trunc(header.vox_offset);
  if (!(voxelOffset >= NIFTI1_HEADER_BYTES)) {
    throw new JobFailure(
      'invalid-input',
      `NIfTI vox_offset is ${header.vox_offset}; a single-file NIfTI-1 volume needs at least ${NIFTI1_HEADER_BYTES}`,
    );
  }
  const fileBytes = voxelOffset + dims[0] * dims[1] * dims[2] * datatype.bytes;
  if (fileBytes > MAX_NIFTI_BYTES) {
    throw new JobFailure(
      'invalid-input',
      `the NIfTI header describes ${fileBytes} bytes, more than the ${MAX_NIFTI_BYTES} bytes a volume may have`,
    );
  }

  const raw = compressed ? await inflateExactly(bytes, fileBytes) : requireLength(bytes, fileBytes);
  const view = new DataView(raw.buffer, raw.byteOffset + voxelOffset, fileBytes - voxelOffset);
  const data = toFloat32(view, datatype, header.littleEndian);
  applyScaling(data, header.scl_slope, header.scl_inter);
  const volume: Volume = {
    dims,
    data,
    // A copy, because a view would keep the whole decompressed file alive with the volume.
    geometry: {
      header: new Uint8Array(raw.subarray(0, NIFTI1_HEADER_BYTES)),
      littleEndian: header.littleEndian,
    },
  };
  const [, dx = 0, dy = 0, dz = 0] = header.pixDims.map(Math.abs);
  if (dx > 0 && dy > 0 && dz > 0) volume.voxelVolumeMm3 = dx * dy * dz;
  return volume;
}

function readNiftiHeader(bytes: Uint8Array): nifti.NIFTI1 {
  // A copy of the header alone, so that nifti-reader-js reads no extension and copies no voxels.
  const header = new Uint8Array(bytes.subarray(0, NIFTI1_HEADER_BYTES)).buffer;
  if (header.byteLength < NIFTI1_HEADER_BYTES || !nifti.isNIFTI1(header)) {
    throw new JobFailure(
      'unsupported-media-type',
      'input is not a NIfTI-1 file (NIfTI-2 and other formats are not supported)',
    );
  }
  return nifti.readHeader(header) as nifti.NIFTI1;
}

function checkShape(dims: [number, number, number], expected: VolumeShape): void {
  if (dims.every((size, axis) => expected[axis] === -1 || expected[axis] === size)) return;
  throw new JobFailure(
    'invalid-input',
    `volume is ${dims.join('x')} voxels, but the model takes ${expected.join('x')} (x, y, z)`,
  );
}

function requireLength(bytes: Uint8Array, fileBytes: number): Uint8Array {
  if (bytes.byteLength >= fileBytes) return bytes;
  throw new JobFailure(
    'invalid-input',
    `NIfTI file has ${bytes.byteLength} bytes, its header describes ${fileBytes}`,
  );
}

/** Inflates the first `length` bytes of a gzip stream (fewer when the stream is shorter), stopping there. */
function inflatePrefix(bytes: Uint8Array, length: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const inflater = createGunzip();
    const chunks: Buffer[] = [];
    let received = 0;
    inflater.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      received += chunk.byteLength;
      if (received < length) return;
      inflater.destroy();
      resolve(Buffer.concat(chunks).subarray(0, length));
    });
    inflater.on('end', () => resolve(Buffer.concat(chunks)));
    inflater.on('error', (error) => reject(undecompressable(error)));
    inflater.end(bytes);
  });
}

/**
 * Inflates a gzip stream (every member of it) that must produce exactly `fileBytes` bytes. The
 * output is capped at that size, so a stream that inflates to more fails without allocating more.
 */
async function inflateExactly(bytes: Uint8Array, fileBytes: number): Promise<Buffer> {
  let raw: Buffer;
  try {
    raw = await gunzipAsync(bytes, { maxOutputLength: fileBytes });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
      throw new JobFailure(
        'invalid-input',
        `gzip-compressed NIfTI inflates to more than the ${fileBytes} bytes its header describes`,
        { cause: error },
      );
    }
    throw undecompressable(error);
  }
  if (raw.byteLength !== fileBytes) {
    throw new JobFailure(
      'invalid-input',
      `gzip-compressed NIfTI inflates to ${raw.byteLength} bytes, its header describes ${fileBytes}`,
    );
  }
  return raw;
}

function undecompressable(error: unknown): JobFailure {
  return new JobFailure(
    'invalid-input',
    `gzip-compressed NIfTI cannot be decompressed: ${(error as Error).message}`,
    { cause: error },
  );
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

type Datatype = (typeof DATATYPES)[number];

function datatypeOf(header: nifti.NIFTI1): Datatype {
  const datatype = DATATYPES[header.datatypeCode];
  if (datatype) return datatype;
  throw new JobFailure(
    'invalid-input',
    `NIfTI datatype ${header.datatypeCode} is not supported (use an integer or float type)`,
  );
}

function toFloat32(view: DataView, datatype: Datatype, littleEndian: boolean): Float32Array {
  const data = new Float32Array(view.byteLength / datatype.bytes);
  for (let i = 0; i < data.length; i += 1) data[i] = datatype.read(view, i * datatype.bytes, littleEndian);
  return data;
}

function applyScaling(data: Float32Array, slope: number, intercept: number): void {
  // NIfTI-1: a zero slope means the stored values are not scaled.
  if (!Number.isFinite(slope) || slope === 0 || (slope === 1 && intercept === 0)) return;
  for (let i = 0; i < data.length; i += 1) data[i] = (data[i] as number) * slope + intercept;
}
