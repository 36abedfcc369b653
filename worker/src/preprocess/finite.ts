import type { Normalize } from '@medai-flow/contracts';
import { JobFailure } from '../errors.js';

/**
 * Fails the job with `invalid-input` when any value is NaN or infinite, in one pass over
 * `values`. `description` names the input and the step, for example "the DICOM image after
 * decoding and rescaling". Such values come from the input itself (NaN voxels) or from its
 * scaling (a rescale slope of 1e309 is infinite). Normalisation would turn them into NaN
 * everywhere, or into zeros (minmax of equal infinite values), and the model would return a
 * plausible but meaningless result.
 */
export function requireFinite(values: Float32Array, description: string): void {
  let nan = 0;
  let infinite = 0;
  let first = -1;
  for (let i = 0; i < values.length; i += 1) {
    const value = values[i] as number;
    if (value - value === 0) continue;
    if (Number.isNaN(value)) nan += 1;
    else infinite += 1;
    if (first < 0) first = i;
  }
  if (first < 0) return;
  throw new JobFailure(
    'invalid-input',
    `${description} has ${nan} NaN and ${infinite} infinite values out of ${values.length} (the first at index ${first}); check the stored values and their rescale slope and intercept`,
  );
}

/**
 * Returns true when `normalize` can turn finite float32 values into infinite ones: only
 * `affine`, whose fixed scale may overflow float32. `zscore` and `minmax` compute in float64
 * and return values within a few standard deviations, or within 0..1.
 */
export function mayOverflow(normalize: Normalize): boolean {
  return normalize.kind === 'affine';
}
