import { type InputMediaType, InputMediaTypeSchema } from '@medai-flow/contracts';
import { GatewayError } from '../errors/gateway-error.js';

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const JPEG_SOI = [0xff, 0xd8, 0xff];
const GZIP_MAGIC = [0x1f, 0x8b];
/** DICOM Part 10: a 128-byte preamble, then "DICM". */
const DICOM_PREFIX_OFFSET = 128;
const DICOM_MAGIC = [0x44, 0x49, 0x43, 0x4d];

function startsWith(bytes: Uint8Array, expected: readonly number[], offset = 0): boolean {
  if (bytes.byteLength < offset + expected.length) return false;
  return expected.every((value, index) => bytes[offset + index] === value);
}

export function isGzip(bytes: Uint8Array): boolean {
  return startsWith(bytes, GZIP_MAGIC);
}

/**
 * The submission media type from a `Content-Type` header (parameters dropped, lowercased), or
 * a 415 naming the types the model accepts.
 */
export function submissionMediaType(
  header: string | undefined,
  accepted: readonly InputMediaType[],
): InputMediaType {
  const essence = (header ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  const parsed = InputMediaTypeSchema.safeParse(essence);
  if (!parsed.success || !accepted.includes(parsed.data)) {
    const got = essence === '' ? 'no Content-Type' : `"${essence.slice(0, 100)}"`;
    throw new GatewayError(
      'unsupported_media_type',
      `this model accepts ${accepted.join(', ')}; the request has ${got}`,
      { extensions: { expected: accepted, received: essence.slice(0, 100) } },
    );
  }
  return parsed.data;
}

/** Checks that the body starts with the magic bytes of its declared media type (JSON is parsed later). */
export function checkSignature(mediaType: InputMediaType, body: Uint8Array): void {
  let matches: boolean;
  switch (mediaType) {
    case 'image/png':
      matches = startsWith(body, PNG_SIGNATURE);
      break;
    case 'image/jpeg':
      matches = startsWith(body, JPEG_SOI);
      break;
    case 'application/dicom':
      matches = startsWith(body, DICOM_MAGIC, DICOM_PREFIX_OFFSET);
      break;
    case 'application/x-nifti':
      // Raw NIfTI is checked by its header (nifti.ts); here only emptiness matters.
      matches = body.byteLength > 0;
      break;
    case 'application/json':
      matches = true;
      break;
  }
  if (!matches) {
    throw new GatewayError(
      'bad_request',
      `the body is not ${describe(mediaType)}: its leading bytes do not match`,
    );
  }
}

function describe(mediaType: InputMediaType): string {
  switch (mediaType) {
    case 'image/png':
      return 'a PNG image';
    case 'image/jpeg':
      return 'a JPEG image';
    case 'application/dicom':
      return 'a DICOM Part 10 file ("DICM" at byte 128)';
    case 'application/x-nifti':
      return 'a NIfTI-1 volume';
    case 'application/json':
      return 'JSON';
  }
}
