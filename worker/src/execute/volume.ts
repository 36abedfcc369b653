import type { ModelManifest } from '@medai-flow/contracts';
import { JobFailure } from '../errors.js';
import type { InferencePool, OutputReduction } from '../inference/index.js';
import type { Volume } from '../preprocess/index.js';
import { floatFeed, type ModelOutput, runModel } from './run.js';

/**
 * Runs a normalised volume through a 3D model. NIfTI's voxel order (x fastest) maps straight
 * onto the tensor `[1, 1, z, y, x]`, so the volume must have exactly the model's size.
 */
export async function inferVolume(
  pool: InferencePool,
  manifest: ModelManifest,
  volume: Volume,
  reduction: OutputReduction,
  signal: AbortSignal,
): Promise<ModelOutput> {
  const [, , depth = -1, height = -1, width = -1] = (manifest.inputs[0] as { shape: number[] }).shape;
  const [x, y, z] = volume.dims;
  const matches = (expected: number, got: number) => expected === -1 || expected === got;
  if (!matches(width, x) || !matches(height, y) || !matches(depth, z)) {
    throw new JobFailure(
      'invalid-input',
      `volume is ${x}x${y}x${z} voxels, but ${manifest.name} takes ${width}x${height}x${depth} (x, y, z)`,
    );
  }
  const feeds = floatFeed(manifest, volume.data, [1, 1, z, y, x]);
  const { output, inferenceMs } = await runModel(pool, manifest, feeds, reduction, signal);
  return { output, reduced: reduction === 'argmax', inferenceMs, runs: 1 };
}
