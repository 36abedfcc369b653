import type { ModelManifest } from '@medai-flow/contracts';
import { JobFailure } from '../errors.js';
import type { InferencePool } from '../inference/index.js';
import type { GreyImage } from '../preprocess/index.js';
import { resizeBilinear } from './resize.js';
import { floatFeed, type ModelOutput, runModel } from './run.js';
import { extractTile, placeTileCore, planTiles } from './tiling.js';

/**
 * Runs a normalised 2D image through a model and returns its float32 output planes at the
 * image's own size, `[1, C, height, width]`. An image of the model's input size (or any
 * size when the model's spatial dimensions are dynamic) runs once. Other sizes go through
 * the manifest's `fit`, which is mirrored tiles with a halo or a resize there and back.
 */
export async function inferImage(
  pool: InferencePool,
  manifest: ModelManifest,
  image: GreyImage,
  signal: AbortSignal,
): Promise<ModelOutput> {
  const [, , modelHeight = -1, modelWidth = -1] = (manifest.inputs[0] as { shape: number[] }).shape;
  const fixed = modelHeight > 0 && modelWidth > 0;
  if (!fixed || (image.width === modelWidth && image.height === modelHeight)) {
    return runWhole(pool, manifest, image, signal);
  }
  const fit = manifest.preprocessing.fit;
  if (fit?.kind === 'tile') return runTiles(pool, manifest, image, modelWidth, modelHeight, fit.halo, signal);
  if (fit?.kind === 'resize') return runResized(pool, manifest, image, modelWidth, modelHeight, signal);
  throw new JobFailure(
    'invalid-input',
    `image is ${image.width}x${image.height}, but ${manifest.name} takes ${modelWidth}x${modelHeight} and its manifest sets no fit`,
  );
}

async function runWhole(
  pool: InferencePool,
  manifest: ModelManifest,
  image: GreyImage,
  signal: AbortSignal,
): Promise<ModelOutput> {
  const feeds = floatFeed(manifest, image.data, [1, 1, image.height, image.width]);
  const { output, inferenceMs } = await runModel(pool, manifest, feeds, 'none', signal);
  return { output, reduced: false, inferenceMs, runs: 1 };
}

async function runTiles(
  pool: InferencePool,
  manifest: ModelManifest,
  image: GreyImage,
  tileWidth: number,
  tileHeight: number,
  halo: number,
  signal: AbortSignal,
): Promise<ModelOutput> {
  const channels = outputChannels(manifest);
  const scores = new Float32Array(channels * image.width * image.height);
  let inferenceMs = 0;
  const tiles = planTiles(image.width, image.height, tileWidth, tileHeight, halo);
  for (const tile of tiles) {
    // pool.run also checks the signal, but only after the tile was copied out of the image.
    signal.throwIfAborted();
    const input = extractTile(image.data, image.width, image.height, tile, tileWidth, tileHeight);
    const feeds = floatFeed(manifest, input, [1, 1, tileHeight, tileWidth]);
    const result = await runModel(pool, manifest, feeds, 'none', signal);
    inferenceMs += result.inferenceMs;
    const tileScores = result.output.data as Float32Array;
    placeTileCore(scores, image.width, image.height, tileScores, tile, tileWidth, tileHeight, halo, channels);
  }
  const output = { type: 'float32' as const, data: scores, dims: [1, channels, image.height, image.width] };
  return { output, reduced: false, inferenceMs, runs: tiles.length };
}

async function runResized(
  pool: InferencePool,
  manifest: ModelManifest,
  image: GreyImage,
  modelWidth: number,
  modelHeight: number,
  signal: AbortSignal,
): Promise<ModelOutput> {
  const resized = resizeBilinear(image.data, image.width, image.height, modelWidth, modelHeight);
  const feeds = floatFeed(manifest, resized, [1, 1, modelHeight, modelWidth]);
  const { output, inferenceMs } = await runModel(pool, manifest, feeds, 'none', signal);
  const channels = outputChannels(manifest);
  const scores = resizeBilinear(
    output.data as Float32Array,
    modelWidth,
    modelHeight,
    image.width,
    image.height,
    channels,
  );
  return {
    output: { type: 'float32', data: scores, dims: [1, channels, image.height, image.width] },
    reduced: false,
    inferenceMs,
    runs: 1,
  };
}

function outputChannels(manifest: ModelManifest): number {
  return (manifest.outputs[0] as { shape: number[] }).shape[1] ?? 1;
}
