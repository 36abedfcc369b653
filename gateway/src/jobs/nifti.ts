import { constants, gunzipSync } from 'node:zlib';
import type { TensorSpec } from '@medai-flow/contracts';
import { GatewayError } from '../errors/gateway-error.js';
import { isGzip } from './media.js';

/** NIfTI-1 header size; `sizeof_hdr` holds it, which also tells the byte order. */
const NIFTI1_HEADER_BYTES = 348;
const MAGIC_OFFSET = 344;
const DIM_OFFSET = 40;
/** Compressed bytes inflated to reach the header; a gzip stream with a valid header needs far fewer. */
const GZIP_PREFIX_BYTES = 64 * 1024;

/** Reads the first `NIFTI1_HEADER_BYTES` of a gzip stream without inflating the whole volume. */
function inflateHeader(body: Uint8Array): Uint8Array {
  const prefix = body.subarray(0, Math.min(body.byteLength, GZIP_PREFIX_BYTES));
  try {
    // Z_SYNC_FLUSH returns what the prefix decodes to instead of failing on the truncated stream.
    return gunzipSync(prefix, { finishFlush: constants.Z_SYNC_FLUSH });
  } catch (error) {
    throw new GatewayError('bad_request', 'the body is not a valid gzip stream', { cause: error });
  }
}

function notNifti(): GatewayError {
  return new GatewayError('bad_request', 'the body is not a NIfTI-1 volume (no valid NIfTI-1 header)');
}

/** The `dim` array of a NIfTI-1 volume (raw or gzip), `dim[0]` being the number of dimensions. */
export function readNiftiDims(body: Uint8Array): number[] {
  const header = isGzip(body) ? inflateHeader(body) : body;
  if (header.byteLength < NIFTI1_HEADER_BYTES) throw notNifti();
  const view = new DataView(header.buffer, header.byteOffset, NIFTI1_HEADER_BYTES);
  const littleEndian = view.getInt32(0, true) === NIFTI1_HEADER_BYTES;
  if (!littleEndian && view.getInt32(0, false) !== NIFTI1_HEADER_BYTES) throw notNifti();
  const magic = String.fromCharCode(...header.subarray(MAGIC_OFFSET, MAGIC_OFFSET + 4));
  if (magic !== 'n+1\0' && magic !== 'ni1\0') throw notNifti();
  const dims: number[] = [];
  for (let index = 0; index < 8; index++) dims.push(view.getInt16(DIM_OFFSET + index * 2, littleEndian));
  return dims;
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
