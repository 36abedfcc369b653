import type { ModelManifest } from '@medai-flow/contracts';
import { JobFailure } from '../errors.js';
import {
  type InferencePool,
  InferenceProcessExit,
  InferenceRunError,
  type OutputReduction,
  type RunResult,
  type WireTensor,
} from '../inference/index.js';

/** The model's output for one job, with the time spent in onnxruntime and the number of runs. */
export interface ModelOutput {
  output: WireTensor;
  /** True when the output contains argmax labels instead of scores. */
  reduced: boolean;
  inferenceMs: number;
  runs: number;
}

/**
 * Runs one request and turns inference failures into `JobFailure`s with the reason; an
 * aborted run (cancellation, deadline) rejects with the pool's `RunAborted` unchanged.
 */
export async function runModel(
  pool: InferencePool,
  manifest: ModelManifest,
  feeds: Record<string, WireTensor>,
  reduction: OutputReduction,
  signal: AbortSignal,
): Promise<RunResult> {
  const outputName = (manifest.outputs[0] as { name: string }).name;
  try {
    return await pool.run({ feeds, outputName, reduction }, signal);
  } catch (error) {
    if (error instanceof InferenceProcessExit) {
      throw new JobFailure('inference-failed', `inference of ${manifest.name} crashed: ${error.message}`, {
        cause: error,
      });
    }
    if (error instanceof InferenceRunError) {
      throw new JobFailure('inference-failed', `inference of ${manifest.name} failed: ${error.message}`, {
        cause: error,
      });
    }
    throw error;
  }
}

/** Builds a single float32 feed for the model's only input. */
export function floatFeed(
  manifest: ModelManifest,
  data: Float32Array,
  dims: number[],
): Record<string, WireTensor> {
  const name = (manifest.inputs[0] as { name: string }).name;
  return { [name]: { type: 'float32', data, dims } };
}
