import type { LabelStats, Postprocessing } from '@medai-flow/contracts';
import { JobFailure } from '../errors.js';
import { argmaxChannels, type WireTensor } from '../inference/index.js';

export function sigmoid(logit: number): number {
  return 1 / (1 + Math.exp(-logit));
}

/**
 * Turns a `[1, C, ...spatial]` float32 score tensor into one uint8 label per element:
 * `sigmoid-threshold` (one channel) gives 1 where `sigmoid(score) >= threshold`, else 0;
 * `argmax` gives the index of the highest channel.
 */
export function labelsFromScores(scores: WireTensor, postprocessing: Postprocessing): Uint8Array {
  const data = scores.data as Float32Array;
  if (postprocessing.kind === 'argmax') return argmaxChannels(data, scores.dims).data as Uint8Array;
  if (postprocessing.kind === 'sigmoid-threshold') {
    if ((scores.dims[1] ?? 1) !== 1) {
      throw new JobFailure(
        'inference-failed',
        `sigmoid-threshold needs one output channel, got ${scores.dims[1]}`,
      );
    }
    const labels = new Uint8Array(data.length);
    for (let i = 0; i < data.length; i += 1)
      labels[i] = sigmoid(data[i] as number) >= postprocessing.threshold ? 1 : 0;
    return labels;
  }
  throw new JobFailure(
    'inference-failed',
    `postprocessing ${postprocessing.kind} does not produce a label image`,
  );
}

/** Counts each label; `volumeMl` is given when the volume of one pixel or voxel (mm³) is known. */
export function labelStats(
  labels: Uint8Array,
  names: readonly string[],
  voxelVolumeMm3?: number,
): LabelStats[] {
  const counts = new Array<number>(names.length).fill(0);
  for (const label of labels) counts[label] = (counts[label] ?? 0) + 1;
  return names.map((label, index) => {
    const count = counts[index] ?? 0;
    const stats: LabelStats = { label, count, fraction: labels.length > 0 ? count / labels.length : 0 };
    if (voxelVolumeMm3 !== undefined) stats.volumeMl = (count * voxelVolumeMm3) / 1000;
    return stats;
  });
}

/** Softmax over class scores, then the `top` most probable labels, most probable first. */
export function softmaxTop(
  scores: Float32Array,
  names: readonly string[],
  top: number,
): { label: string; probability: number }[] {
  let max = Number.NEGATIVE_INFINITY;
  for (const score of scores) max = Math.max(max, score);
  const exps = Array.from(scores, (score) => Math.exp(score - max));
  const sum = exps.reduce((total, value) => total + value, 0);
  return exps
    .map((value, index) => ({ label: names[index] ?? String(index), probability: value / sum }))
    .sort((a, b) => b.probability - a.probability)
    .slice(0, top);
}
