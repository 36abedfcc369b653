import type { Normalize } from '@medai-flow/contracts';

/**
 * Normalises intensities in place, over all values of one image or volume:
 * - `zscore`: `(x - mean) / (std + epsilon)` with the population standard deviation;
 * - `minmax`: `(x - min) / (max - min)`, all zeros when every value is equal;
 * - `affine`: `(x * scale - mean) / std` with fixed numbers.
 */
export function normalizeInPlace(values: Float32Array, normalize: Normalize): Float32Array {
  switch (normalize.kind) {
    case 'zscore':
      return zscore(values, normalize.epsilon);
    case 'minmax':
      return minmax(values);
    case 'affine':
      for (let i = 0; i < values.length; i += 1) {
        values[i] = ((values[i] as number) * normalize.scale - normalize.mean) / normalize.std;
      }
      return values;
  }
}

function zscore(values: Float32Array, epsilon: number): Float32Array {
  let sum = 0;
  for (const value of values) sum += value;
  const mean = sum / values.length;
  let squares = 0;
  for (const value of values) squares += (value - mean) * (value - mean);
  const std = Math.sqrt(squares / values.length);
  for (let i = 0; i < values.length; i += 1) values[i] = ((values[i] as number) - mean) / (std + epsilon);
  return values;
}

/** Returns the smallest and largest value; Infinity and -Infinity for no values. */
export function valueRange(values: Float32Array): { min: number; max: number } {
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  for (const value of values) {
    if (value < min) min = value;
    if (value > max) max = value;
  }
  return { min, max };
}

function minmax(values: Float32Array): Float32Array {
  const { min, max } = valueRange(values);
  const range = max - min;
  for (let i = 0; i < values.length; i += 1)
    values[i] = range > 0 ? ((values[i] as number) - min) / range : 0;
  return values;
}
