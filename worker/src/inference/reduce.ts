import type { WireTensor } from './protocol.js';

/** Most classes `argmaxChannels` can label in a uint8 image. */
const MAX_ARGMAX_CLASSES = 256;

/**
 * Labels each element of a `[N, C, ...spatial]` score tensor with the index of its highest
 * channel; returns uint8 labels of shape `[N, ...spatial]`. Ties go to the lower index.
 */
export function argmaxChannels(scores: Float32Array, dims: readonly number[]): WireTensor {
  const [batch = 1, channels = 1, ...spatial] = dims;
  if (channels > MAX_ARGMAX_CLASSES) {
    throw new RangeError(`argmax over ${channels} channels does not fit uint8 labels`);
  }
  const plane = spatial.reduce((product, dim) => product * dim, 1);
  const labels = new Uint8Array(batch * plane);
  for (let n = 0; n < batch; n += 1) {
    const base = n * channels * plane;
    const out = n * plane;
    for (let i = 0; i < plane; i += 1) {
      let best = scores[base + i] as number;
      let bestChannel = 0;
      for (let c = 1; c < channels; c += 1) {
        const score = scores[base + c * plane + i] as number;
        if (score > best) {
          best = score;
          bestChannel = c;
        }
      }
      labels[out + i] = bestChannel;
    }
  }
  return { type: 'uint8', data: labels, dims: [batch, ...spatial] };
}
