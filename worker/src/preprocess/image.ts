import sharp from 'sharp';
import { JobFailure } from '../errors.js';
import type { GreyImage } from './types.js';

/** Largest image sharp decodes, in pixels; larger inputs fail instead of exhausting memory. */
const MAX_IMAGE_PIXELS = 16_384 * 16_384;

/**
 * Decodes a PNG or JPEG into grey float32 values: 8-bit images give 0..255, 16-bit images
 * 0..65535. Colour is converted to luminance and alpha is dropped.
 */
export async function decodeImage(bytes: Uint8Array): Promise<GreyImage> {
  try {
    const metadata = await sharp(bytes, { failOn: 'error', limitInputPixels: MAX_IMAGE_PIXELS }).metadata();
    const sixteenBit = metadata.depth === 'ushort';
    const { data, info } = await sharp(bytes, { failOn: 'error', limitInputPixels: MAX_IMAGE_PIXELS })
      .removeAlpha()
      .toColourspace(sixteenBit ? 'grey16' : 'b-w')
      .raw({ depth: sixteenBit ? 'ushort' : 'uchar' })
      .toBuffer({ resolveWithObject: true });
    const pixels = info.width * info.height;
    const values = new Float32Array(pixels);
    if (sixteenBit) {
      const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
      for (let i = 0; i < pixels; i += 1) values[i] = view.getUint16(i * 2, true);
    } else {
      for (let i = 0; i < pixels; i += 1) values[i] = data[i] as number;
    }
    return { width: info.width, height: info.height, data: values };
  } catch (error) {
    throw new JobFailure('invalid-input', `image cannot be decoded: ${(error as Error).message}`, {
      cause: error,
    });
  }
}
