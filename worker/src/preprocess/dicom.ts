import { checkDicomAdmission, isDicomRejection, parseDicom } from '@medai-flow/common';
import type dicomParser from 'dicom-parser';
import { JobFailure } from '../errors.js';
import { valueRange } from './normalize.js';
import type { GreyImage } from './types.js';

/** DICOM constraints of a model. */
export interface DicomRequirements {
  /** Modalities (0008,0060) accepted; empty accepts any. */
  modalities: readonly string[];
}

/**
 * Decodes one monochrome frame of a DICOM Part 10 file into grey values in the modality's
 * units (rescale slope and intercept applied, so CT gives Hounsfield units). MONOCHROME1
 * frames are inverted so that higher values are brighter, as in MONOCHROME2.
 */
export function decodeDicom(bytes: Uint8Array, requirements: DicomRequirements): GreyImage {
  const dataSet = parseDicom(bytes);
  if (isDicomRejection(dataSet)) throw new JobFailure(dataSet.code, dataSet.detail);
  const rejection = checkDicomAdmission(dataSet, requirements.modalities);
  if (rejection) throw new JobFailure(rejection.code, rejection.detail);
  const image = readPixels(dataSet);
  const spacing = voxelVolume(dataSet);
  return spacing === undefined ? image : { ...image, voxelVolumeMm3: spacing };
}

/** Pixel data layout (group 0028) of a monochrome frame. */
interface PixelLayout {
  rows: number;
  columns: number;
  bitsAllocated: number;
  bitsStored: number;
  signed: boolean;
  photometric: string;
}

function pixelLayout(dataSet: dicomParser.DataSet): PixelLayout {
  const samples = dataSet.uint16('x00280002') ?? 1;
  const photometric = dataSet.string('x00280004') ?? 'MONOCHROME2';
  if (samples !== 1 || !photometric.startsWith('MONOCHROME')) {
    throw new JobFailure(
      'invalid-input',
      `DICOM photometric interpretation ${photometric} is not monochrome`,
    );
  }
  const bitsAllocated = dataSet.uint16('x00280100') ?? 0;
  return {
    rows: dataSet.uint16('x00280010') ?? 0,
    columns: dataSet.uint16('x00280011') ?? 0,
    bitsAllocated,
    bitsStored: dataSet.uint16('x00280101') ?? bitsAllocated,
    signed: dataSet.uint16('x00280103') === 1,
    photometric,
  };
}

function readPixels(dataSet: dicomParser.DataSet): GreyImage {
  const { rows, columns, bitsAllocated, bitsStored, signed, photometric } = pixelLayout(dataSet);
  const pixelData = dataSet.elements.x7fe00010;
  const pixels = rows * columns;
  if (!pixelData || pixels === 0 || ![8, 16, 32].includes(bitsAllocated)) {
    throw new JobFailure(
      'invalid-input',
      `DICOM pixel data is missing or has ${bitsAllocated} bits allocated`,
    );
  }
  const bytesPerPixel = bitsAllocated / 8;
  if (pixelData.length < pixels * bytesPerPixel) {
    throw new JobFailure(
      'invalid-input',
      `DICOM pixel data has ${pixelData.length} bytes, expected ${pixels * bytesPerPixel}`,
    );
  }

  const offset = dataSet.byteArray.byteOffset + pixelData.dataOffset;
  const view = new DataView(dataSet.byteArray.buffer, offset, pixels * bytesPerPixel);
  const slope = dataSet.floatString('x00281053') ?? 1;
  const intercept = dataSet.floatString('x00281052') ?? 0;
  const data = new Float32Array(pixels);
  for (let i = 0; i < pixels; i += 1) {
    data[i] = storedValue(view, i, bitsAllocated, bitsStored, signed) * slope + intercept;
  }
  if (photometric === 'MONOCHROME1') invert(data);
  return { width: columns, height: rows, data };
}

/** Reads pixel `index`, keeps its `bitsStored` low bits and sign-extends them when signed. */
function storedValue(
  view: DataView,
  index: number,
  bitsAllocated: number,
  bitsStored: number,
  signed: boolean,
): number {
  const raw =
    bitsAllocated === 8
      ? view.getUint8(index)
      : bitsAllocated === 16
        ? view.getUint16(index * 2, true)
        : view.getUint32(index * 4, true);
  const masked = bitsStored >= 32 ? raw : raw % 2 ** bitsStored;
  if (signed && masked >= 2 ** (bitsStored - 1)) return masked - 2 ** bitsStored;
  return masked;
}

function invert(data: Float32Array): void {
  const { min, max } = valueRange(data);
  for (let i = 0; i < data.length; i += 1) data[i] = max + min - (data[i] as number);
}

/** Pixel volume from Pixel Spacing (0028,0030) and Slice Thickness (0018,0050), in mm³. */
function voxelVolume(dataSet: dicomParser.DataSet): number | undefined {
  const rowSpacing = dataSet.floatString('x00280030', 0);
  const columnSpacing = dataSet.floatString('x00280030', 1);
  const thickness = dataSet.floatString('x00180050');
  if (!rowSpacing || !columnSpacing || !thickness) return undefined;
  return rowSpacing * columnSpacing * thickness;
}
