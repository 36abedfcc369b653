import { MAX_IMAGE_PIXELS } from '@medai-flow/contracts';
import { GatewayError } from '../errors/gateway-error.js';

/** Width and height of an image, in pixels, read from its header. */
export interface ImageSize {
  width: number;
  height: number;
}

/** Bytes of the PNG signature; the IHDR chunk follows it. */
const PNG_SIGNATURE_BYTES = 8;
/** Length, type and CRC fields around each PNG chunk's data. */
const PNG_CHUNK_OVERHEAD = 12;

/** Reads a chunk's 4-character type at `offset` (the byte after its length field). */
function chunkType(bytes: Uint8Array, offset: number): string {
  return String.fromCharCode(...bytes.subarray(offset, offset + 4));
}

/**
 * Reads a PNG's size from its IHDR chunk and checks that the chunk sequence reaches IEND
 * within the body. Throws 400 for a PNG without IHDR first or with IEND missing (a truncated
 * file). The signature is checked before this.
 */
export function readPngSize(bytes: Uint8Array): ImageSize {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const ihdr = PNG_SIGNATURE_BYTES;
  if (bytes.byteLength < ihdr + PNG_CHUNK_OVERHEAD + 8 || chunkType(bytes, ihdr + 4) !== 'IHDR') {
    throw new GatewayError('bad_request', 'the PNG image is invalid: its first chunk is not IHDR');
  }
  const size = { width: view.getUint32(ihdr + 8), height: view.getUint32(ihdr + 12) };

  // Only the chunk length fields are read, one per chunk, so no image data is decoded.
  let offset = ihdr;
  while (offset + PNG_CHUNK_OVERHEAD <= bytes.byteLength) {
    if (chunkType(bytes, offset + 4) === 'IEND') return size;
    offset += PNG_CHUNK_OVERHEAD + view.getUint32(offset);
  }
  throw new GatewayError(
    'bad_request',
    'the PNG image is truncated: it ends before its IEND chunk; send the whole file',
  );
}

/** JPEG start-of-frame markers (SOF0-SOF15 without DHT C4, JPG C8 and DAC CC), which carry the size. */
const JPEG_SOF_MARKERS = new Set([
  0xc0, 0xc1, 0xc2, 0xc3, 0xc5, 0xc6, 0xc7, 0xc9, 0xca, 0xcb, 0xcd, 0xce, 0xcf,
]);
/** Start of scan: entropy-coded data follows, so no header segment comes after it. */
const JPEG_SOS = 0xda;
/** Markers without a length field: TEM, RST0-RST7, SOI. */
const JPEG_STANDALONE = new Set([0x01, 0xd0, 0xd1, 0xd2, 0xd3, 0xd4, 0xd5, 0xd6, 0xd7, 0xd8]);

/**
 * Reads a JPEG's size from its start-of-frame segment, walking the header segments after SOI.
 * Returns undefined when no SOF segment comes before the scan data, or when its height is 0
 * because a later DNL segment defines it. The worker then enforces the pixel limit.
 */
export function readJpegSize(bytes: Uint8Array): ImageSize | undefined {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let offset = 2;
  while (offset + 4 <= bytes.byteLength) {
    if (bytes[offset] !== 0xff) return undefined;
    const marker = bytes[offset + 1] as number;
    if (marker === 0xff) {
      offset += 1; // a fill byte before the marker
      continue;
    }
    if (JPEG_STANDALONE.has(marker)) {
      offset += 2;
      continue;
    }
    if (marker === JPEG_SOS) return undefined;
    if (JPEG_SOF_MARKERS.has(marker)) {
      if (offset + 9 > bytes.byteLength) return undefined;
      const height = view.getUint16(offset + 5);
      const width = view.getUint16(offset + 7);
      return height === 0 ? undefined : { width, height };
    }
    offset += 2 + view.getUint16(offset + 2);
  }
  return undefined;
}

/** Rejects with 422 an image over `MAX_IMAGE_PIXELS`, naming the limit and the image's size. */
export function checkImagePixels(size: ImageSize): void {
  const pixels = size.width * size.height;
  if (pixels <= MAX_IMAGE_PIXELS) return;
  throw new GatewayError(
    'invalid_input',
    `the image has ${size.width} × ${size.height} = ${pixels} pixels; the limit is ${MAX_IMAGE_PIXELS} pixels`,
    { extensions: { expected: { maxPixels: MAX_IMAGE_PIXELS }, received: { ...size, pixels } } },
  );
}
