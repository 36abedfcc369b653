import dicomParser from 'dicom-parser';

/** Transfer syntaxes whose pixel data the workers read directly: implicit and explicit VR little endian. */
export const UNCOMPRESSED_TRANSFER_SYNTAXES: ReadonlySet<string> = new Set([
  '1.2.840.10008.1.2',
  '1.2.840.10008.1.2.1',
]);

/** Tag of the pixel data element (7FE0,0010); parsing can stop there to read only the header. */
export const PIXEL_DATA_TAG = 'x7fe00010';

/** Maximum tag value length echoed in a rejection, in characters; a file can hold a value of megabytes. */
const MAX_ECHOED_VALUE_CHARS = 64;
/** Maximum parser message length echoed in a rejection, in characters. */
const MAX_ECHOED_REASON_CHARS = 200;

/** Names of transfer syntaxes that clients send and the workers cannot read, for rejections. */
const TRANSFER_SYNTAX_NAMES: Readonly<Record<string, string>> = {
  '1.2.840.10008.1.2.2': 'explicit VR big endian',
  '1.2.840.10008.1.2.1.99': 'deflated explicit VR little endian',
};

function truncate(text: string, maxChars: number): string {
  return text.length <= maxChars ? text : `${text.slice(0, maxChars)}...`;
}

/**
 * Extracts a readable message from what dicom-parser throws: a string, an object whose
 * `exception` is the message (with the partly parsed `dataSet`), or an Error.
 */
function parseErrorMessage(error: unknown): string {
  const thrown =
    typeof error === 'object' && error !== null && 'exception' in error
      ? (error as { exception: unknown }).exception
      : error;
  if (typeof thrown === 'string') return truncate(thrown, MAX_ECHOED_REASON_CHARS);
  const message = (thrown as { message?: unknown } | null | undefined)?.message;
  if (typeof message === 'string') return truncate(message, MAX_ECHOED_REASON_CHARS);
  return 'unknown parser error';
}

function unsupportedSyntax(syntax: string): DicomRejection {
  const name = TRANSFER_SYNTAX_NAMES[syntax];
  const shown = truncate(syntax, MAX_ECHOED_VALUE_CHARS);
  return {
    code: 'unsupported-media-type',
    detail: `DICOM transfer syntax ${shown}${name ? ` (${name})` : ''} is not supported; send implicit or explicit VR little endian (1.2.840.10008.1.2 or 1.2.840.10008.1.2.1)`,
  };
}

/** Reads the transfer syntax from the Part 10 meta header; undefined when that header cannot be read. */
function metaTransferSyntax(bytes: Uint8Array): string | undefined {
  try {
    return dicomParser.readPart10Header(bytes).string('x00020010') ?? undefined;
  } catch {
    // The caller reports the error of the full parse, which covers this one.
    return undefined;
  }
}

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
    // A file in a syntax the workers cannot read gets 415 even when its data set does not parse.
    const syntax = metaTransferSyntax(bytes);
    if (syntax !== undefined && !UNCOMPRESSED_TRANSFER_SYNTAXES.has(syntax)) return unsupportedSyntax(syntax);
    return { code: 'invalid-input', detail: `DICOM file cannot be parsed: ${parseErrorMessage(error)}` };
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
  if (!UNCOMPRESSED_TRANSFER_SYNTAXES.has(syntax)) return unsupportedSyntax(syntax);
  const modality = dataSet.string('x00080060') ?? '(none)';
  if (modalities.length > 0 && !modalities.includes(modality)) {
    return {
      code: 'invalid-input',
      detail: `DICOM modality ${truncate(modality, MAX_ECHOED_VALUE_CHARS)} is not accepted; the model accepts ${modalities.join(', ')}`,
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
