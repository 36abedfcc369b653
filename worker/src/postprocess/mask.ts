import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import sharp from 'sharp';
import type { NiftiGeometry } from '../preprocess/index.js';

const gzipAsync = promisify(gzip);

/** NIfTI intent code of a label volume (NIFTI_INTENT_LABEL). */
const NIFTI_INTENT_LABEL = 1002;
/** Bytes before the voxel data: the 348-byte header and the 4-byte extension flag. */
const NIFTI_VOX_OFFSET = 352;

/**
 * Encodes a 2D label image as an 8-bit grey PNG whose pixel values are the label indexes
 * (0 background, 1 the first label after it, ...), not scaled for display.
 */
export async function encodePngMask(labels: Uint8Array, width: number, height: number): Promise<Buffer> {
  return sharp(labels, { raw: { width, height, channels: 1 } })
    .toColourspace('b-w')
    .png()
    .toBuffer();
}

/**
 * Encodes a label volume as a gzipped NIfTI-1 uint8 file. With the input's geometry, the
 * header is the input's with only the data type, scaling, intent and dimensions changed, so
 * the labels overlay the input. Without it, voxels are 1 mm and no orientation is set.
 */
export async function encodeNiftiMask(
  labels: Uint8Array,
  dims: [number, number, number],
  labelCount: number,
  geometry?: NiftiGeometry,
): Promise<Buffer> {
  const file = new Uint8Array(NIFTI_VOX_OFFSET + labels.length);
  const littleEndian = geometry?.littleEndian ?? true;
  const view = new DataView(file.buffer);
  if (geometry) file.set(geometry.header.subarray(0, 348));
  else writeBareHeader(view);
  view.setInt16(40, 3, littleEndian);
  for (const [index, dim] of dims.entries()) view.setInt16(42 + 2 * index, dim, littleEndian);
  for (let index = 4; index <= 7; index += 1) view.setInt16(40 + 2 * index, 1, littleEndian);
  view.setInt16(68, NIFTI_INTENT_LABEL, littleEndian);
  view.setInt16(70, 2, littleEndian); // DT_UINT8
  view.setInt16(72, 8, littleEndian); // bitpix
  view.setFloat32(108, NIFTI_VOX_OFFSET, littleEndian);
  view.setFloat32(112, 1, littleEndian); // scl_slope
  view.setFloat32(116, 0, littleEndian); // scl_inter
  view.setFloat32(124, Math.max(0, labelCount - 1), littleEndian); // cal_max
  view.setFloat32(128, 0, littleEndian); // cal_min
  file.set([0x6e, 0x2b, 0x31, 0x00], 344); // magic "n+1\0": header and data in one file
  file.set([0, 0, 0, 0], 348); // no extensions
  file.set(labels, NIFTI_VOX_OFFSET);
  return gzipAsync(file);
}

function writeBareHeader(view: DataView): void {
  view.setInt32(0, 348, true); // sizeof_hdr
  for (let index = 0; index < 8; index += 1) view.setFloat32(76 + 4 * index, 1, true); // pixdim
  view.setUint8(123, 2); // xyzt_units: NIFTI_UNITS_MM
}
