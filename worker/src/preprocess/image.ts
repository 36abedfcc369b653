import { MAX_IMAGE_PIXELS } from '@medai-flow/contracts';
import sharp from 'sharp';
import { JobFailure } from '../errors.js';
import type { GreyImage } from './types.js';

/**
 * Decodes a PNG or JPEG into grey float32 values: 8-bit images give 0..255, 16-bit images
 * 0..65535. Colour is converted to luminance and alpha is dropped.
 */
export async function decodeImage(bytes: Uint8Array): Promise<GreyImage> {
  // Reading the metadata decodes the header only, so the size is checked before any pixel is decoded.
  const metadata = await sharp(bytes, { failOn: 'error', limitInputPixels: false })
    .metadata()
    .catch((error: unknown) => {
      throw undecodable(error);
    });
  const imagePixels = (metadata.width ?? 0) * (metadata.height ?? 0);
  if (imagePixels > MAX_IMAGE_PIXELS) {
    throw new JobFailure(
      'invalid-input',
      `the image has ${metadata.width} × ${metadata.height} = ${imagePixels} pixels; the limit is ${MAX_IMAGE_PIXELS} pixels`,
    );
  }
  try {
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
    throw undecodable(error);
  }
}

function undecodable(error: unknown): JobFailure {
  return new JobFailure('invalid-input', `image cannot be decoded: ${(error as Error).message}`, {
    cause: error,
  });
}
