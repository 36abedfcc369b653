import dicomParser from 'dicom-parser';

/** Transfer syntaxes whose pixel data the workers read directly: implicit and explicit VR little endian. */
export const UNCOMPRESSED_TRANSFER_SYNTAXES: ReadonlySet<string> = new Set([
  '1.2.840.10008.1.2',
  '1.2.840.10008.1.2.1',
]);

/** Tag of the pixel data element (7FE0,0010); parsing can stop there to read only the header. */
export const PIXEL_DATA_TAG = 'x7fe00010';

/** Reason a DICOM file cannot be run by a model; `code` is a problem code of the HTTP API. */
export interface DicomRejection {
  code: 'unsupported-media-type' | 'invalid-input';
  detail: string;
}

/**
 * Parses a DICOM Part 10 file; with `headerOnly`, it stops before the pixel data. Returns a
 * rejection (never throws) when the file cannot be parsed.
 */
export function parseDicom(
  bytes: Uint8Array,
  options: { headerOnly?: boolean } = {},
): dicomParser.DataSet | DicomRejection {
  try {
    return dicomParser.parseDicom(bytes, options.headerOnly ? { untilTag: PIXEL_DATA_TAG } : undefined);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return { code: 'invalid-input', detail: `DICOM file cannot be parsed: ${reason}` };
  }
}

/**
 * Checks what a 2D model requires of a DICOM file before any pixel is read: an uncompressed
 * transfer syntax, a modality (0008,0060) among `modalities` (empty accepts any) and one frame.
 * Returns undefined when the file is acceptable.
 */
export function checkDicomAdmission(
  dataSet: dicomParser.DataSet,
  modalities: readonly string[],
): DicomRejection | undefined {
  const syntax = dataSet.string('x00020010') ?? '1.2.840.10008.1.2';
  if (!UNCOMPRESSED_TRANSFER_SYNTAXES.has(syntax)) {
    return {
      code: 'unsupported-media-type',
      detail: `DICOM transfer syntax ${syntax} is not supported; send implicit or explicit VR little endian (1.2.840.10008.1.2 or 1.2.840.10008.1.2.1)`,
    };
  }
  const modality = dataSet.string('x00080060') ?? '(none)';
  if (modalities.length > 0 && !modalities.includes(modality)) {
    return {
      code: 'invalid-input',
      detail: `DICOM modality ${modality} is not accepted; the model accepts ${modalities.join(', ')}`,
    };
  }
  const frames = dataSet.intString('x00280008') ?? 1;
  if (frames > 1) {
    return {
      code: 'invalid-input',
      detail: `DICOM file has ${frames} frames, but the model takes one 2D image`,
    };
  }
  return undefined;
}

export function isDicomRejection(value: unknown): value is DicomRejection {
  return typeof value === 'object' && value !== null && 'code' in value && 'detail' in value;
}
