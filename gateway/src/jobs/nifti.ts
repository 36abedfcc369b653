import { constants, gunzipSync } from 'node:zlib';
import type { TensorSpec } from '@medai-flow/contracts';
import { GatewayError } from '../errors/gateway-error.js';
import { isGzip } from './media.js';

/** NIfTI-1 header size; `sizeof_hdr` contains it, which also shows the byte order. */
const NIFTI1_HEADER_BYTES = 348;
const MAGIC_OFFSET = 344;
const DIM_OFFSET = 40;
const DATATYPE_OFFSET = 70;
const VOX_OFFSET_OFFSET = 108;
/** Smallest vox_offset of a single-file (n+1) volume: the header plus the 4-byte extension flag. */
const MIN_VOX_OFFSET = 352;
/** Compressed bytes inflated at most to reach the header; a gzip stream with a valid header needs far fewer. */
const GZIP_PREFIX_BYTES = 4 * 1024;
/**
 * Inflated bytes produced at most per attempt. A deflate stream expands up to about 1000-fold,
 * so inflating even the 4 KiB prefix of a volume of zeros would produce megabytes on the event
 * loop; capping the output keeps each attempt well under a millisecond.
 */
export const MAX_INFLATED_BYTES = 16 * 1024;
/** Attempts of the search for a prefix length; 13 halvings narrow 4 KiB down to one byte. */
const MAX_INFLATE_ATTEMPTS = 14;

/** Inflates the first `length` bytes of a gzip stream; `undefined` when the output passes the cap. */
function inflatePrefix(body: Uint8Array, length: number): Uint8Array | undefined {
  try {
    // Z_SYNC_FLUSH returns what the prefix decodes to instead of failing on the truncated stream.
    return gunzipSync(body.subarray(0, length), {
      finishFlush: constants.Z_SYNC_FLUSH,
      maxOutputLength: MAX_INFLATED_BYTES,
    });
  } catch (error) {
    if ((error as { code?: unknown }).code === 'ERR_BUFFER_TOO_LARGE') return undefined;
    throw new GatewayError('bad_request', 'the body is not a valid gzip stream', { cause: error });
  }
}

/**
 * Reads the first `NIFTI1_HEADER_BYTES` of a gzip stream without inflating the whole volume. It
 * searches for a compressed prefix that inflates to at least the header and at most
 * `MAX_INFLATED_BYTES`: a prefix whose output passes the cap is shortened, one that stops short
 * of the header is lengthened.
 */
export function inflateHeader(body: Uint8Array): Uint8Array {
  const maxLength = Math.min(body.byteLength, GZIP_PREFIX_BYTES);
  let shortLength = 0;
  let longLength = maxLength + 1;
  let length = maxLength;
  let inflated: Uint8Array = new Uint8Array(0);
  for (let attempt = 0; attempt < MAX_INFLATE_ATTEMPTS; attempt++) {
    const output = inflatePrefix(body, length);
    if (output === undefined) {
      longLength = length;
    } else {
      inflated = output;
      if (output.byteLength >= NIFTI1_HEADER_BYTES || length === maxLength) return output;
      shortLength = length;
    }
    if (longLength - shortLength <= 1) break;
    length = Math.floor((shortLength + longLength) / 2);
  }
  return inflated;
}

function notNifti(): GatewayError {
  return new GatewayError('bad_request', 'the body is not a NIfTI-1 volume (no valid NIfTI-1 header)');
}

/** The fields of a NIfTI-1 header that the gateway checks. */
export interface NiftiHeader {
  /** The `dim` array, `dim[0]` being the number of dimensions. */
  dims: number[];
  datatypeCode: number;
  /** Byte offset of the voxel data in the (uncompressed) file. */
  voxOffset: number;
}

/** Reads the header of a NIfTI-1 volume, raw or gzip. */
export function readNiftiHeader(body: Uint8Array): NiftiHeader {
  const header = isGzip(body) ? inflateHeader(body) : body;
  if (header.byteLength < NIFTI1_HEADER_BYTES) throw notNifti();
  const view = new DataView(header.buffer, header.byteOffset, NIFTI1_HEADER_BYTES);
  const littleEndian = view.getInt32(0, true) === NIFTI1_HEADER_BYTES;
  if (!littleEndian && view.getInt32(0, false) !== NIFTI1_HEADER_BYTES) throw notNifti();
  const magic = String.fromCharCode(...header.subarray(MAGIC_OFFSET, MAGIC_OFFSET + 4));
  if (magic !== 'n+1\0' && magic !== 'ni1\0') throw notNifti();
  const dims: number[] = [];
  for (let index = 0; index < 8; index++) dims.push(view.getInt16(DIM_OFFSET + index * 2, littleEndian));
  return {
    dims,
    datatypeCode: view.getInt16(DATATYPE_OFFSET, littleEndian),
    voxOffset: view.getFloat32(VOX_OFFSET_OFFSET, littleEndian),
  };
}

/** Bytes per voxel of the NIfTI datatype codes the worker reads (integers, float32, float64). */
const DATATYPE_BYTES: Readonly<Record<number, number>> = {
  2: 1,
  4: 2,
  8: 4,
  16: 4,
  64: 8,
  256: 1,
  512: 2,
  768: 4,
};

/** Size of the last gzip member's uncompressed data mod 2^32 (ISIZE, RFC 1952 section 2.3.1). */
function gzipIsize(body: Uint8Array): number {
  return new DataView(body.buffer, body.byteOffset, body.byteLength).getUint32(body.byteLength - 4, true);
}

/**
 * Checks that the body contains every voxel: vox_offset + voxels × bytes per voxel. A raw file
 * may be longer; for gzip, the trailer's ISIZE must equal that size mod 2^32, which catches
 * a truncated stream without inflating it. 422 names the expected and received sizes.
 * NOTE: a multi-member gzip file stores the ISIZE of its last member only, so it is rejected.
 */
export function checkVolumeBytes(body: Uint8Array, header: NiftiHeader): void {
  const bytesPerVoxel = DATATYPE_BYTES[header.datatypeCode];
  if (bytesPerVoxel === undefined) {
    throw new GatewayError(
      'invalid_input',
      `NIfTI datatype ${header.datatypeCode} is not supported; use an integer, float32 or float64 type`,
      { extensions: { field: 'datatype', received: header.datatypeCode } },
    );
  }
  if (!Number.isInteger(header.voxOffset) || header.voxOffset < MIN_VOX_OFFSET) {
    throw new GatewayError(
      'invalid_input',
      `NIfTI vox_offset ${header.voxOffset} is invalid; a single-file (n+1) volume needs at least ${MIN_VOX_OFFSET}`,
      { extensions: { field: 'vox_offset', received: header.voxOffset } },
    );
  }
  const rank = header.dims[0] ?? 0;
  const voxels = header.dims.slice(1, 1 + rank).reduce((product, size) => product * size, 1);
  const expected = header.voxOffset + voxels * bytesPerVoxel;
  if (isGzip(body)) {
    const received = gzipIsize(body);
    if (received !== expected % 2 ** 32) {
      throw new GatewayError(
        'invalid_input',
        `the gzip stream contains ${received} bytes (ISIZE, mod 2^32) but the NIfTI header needs ${expected} bytes; send the whole file`,
        { extensions: { field: 'body', expected, received } },
      );
    }
  } else if (body.byteLength < expected) {
    throw new GatewayError(
      'invalid_input',
      `the NIfTI file has ${body.byteLength} bytes but its header needs ${expected} bytes (vox_offset ${header.voxOffset} + ${voxels} voxels × ${bytesPerVoxel} bytes); send the whole file`,
      { extensions: { field: 'body', expected, received: body.byteLength } },
    );
  }
}

/**
 * Checks a volume against a model input of layout NCDHW: three spatial dimensions (a fourth
 * of size 1 is allowed) equal to the model's last three, in NIfTI order (dim[1], dim[2], dim[3]).
 * NOTE: the order assumes the worker feeds dim[1..3] as D, H, W; both models here are cubic.
 */
export function checkVolumeShape(dims: number[], input: TensorSpec): void {
  const rank = dims[0] ?? 0;
  const spatial = dims.slice(1, 4);
  const extra = dims.slice(4, 1 + Math.max(rank, 3));
  const expected = input.shape.slice(-3);
  const fits =
    (rank === 3 || (rank === 4 && extra.every((size) => size === 1))) &&
    expected.every((size, index) => size === -1 || size === spatial[index]);
  if (!fits) {
    const received = dims.slice(1, 1 + Math.max(0, Math.min(rank, 7)));
    throw new GatewayError(
      'invalid_input',
      `the volume has dimensions [${received.join(', ')}]; the model "${input.name}" expects [${expected.join(', ')}]`,
      { extensions: { expected, received } },
    );
  }
}
