import type { ModelManifest, QueueJobData } from '@medai-flow/contracts';
import { JobFailure } from '../errors.js';
import { inferImage, inferVolume, type ModelOutput, runModel } from '../execute/index.js';
import type { OutputReduction } from '../inference/index.js';
import type { ModelRuntime } from '../models/index.js';
import { buildSections, type ResultSections } from '../postprocess/index.js';
import { type PreparedInput, prepareInput } from '../preprocess/index.js';

export interface PipelineOutput {
  sections: ResultSections;
  preprocessMs: number;
  inferenceMs: number;
  /** onnxruntime runs (tiles) the job took, each of batch size 1. */
  runs: number;
}

/** Decodes, preprocesses, runs and post-processes one job's input. */
export async function runPipeline(
  runtime: ModelRuntime,
  data: QueueJobData,
  bytes: Uint8Array,
  maxRawOutputElements: number,
  signal: AbortSignal,
): Promise<PipelineOutput> {
  const { manifest, pool } = runtime;
  const started = performance.now();
  const input = await prepareInput(manifest, data.input, bytes, signal);
  signal.throwIfAborted();
  if (data.rawOutputs) checkRawOutputSize(manifest, input, maxRawOutputElements);
  const preprocessMs = performance.now() - started;

  // argmax in the inference process keeps large score tensors there, unless they were requested.
  const reduction: OutputReduction =
    manifest.task === 'segmentation' && manifest.postprocessing.kind === 'argmax' && !data.rawOutputs
      ? 'argmax'
      : 'none';
  let output: ModelOutput;
  if (input.kind === 'image') output = await inferImage(pool, manifest, input.image, signal);
  else if (input.kind === 'volume')
    output = await inferVolume(pool, manifest, input.volume, reduction, signal);
  else {
    const result = await runModel(pool, manifest, input.feeds, reduction, signal);
    output = {
      output: result.output,
      reduced: reduction === 'argmax',
      inferenceMs: result.inferenceMs,
      runs: 1,
    };
  }
  signal.throwIfAborted();
  const sections = await buildSections(manifest, input, output, {
    rawOutputs: data.rawOutputs,
    maxRawOutputElements,
  });
  return { sections, preprocessMs, inferenceMs: output.inferenceMs, runs: output.runs };
}

/** Fails before inference when the requested raw output could not be returned. */
function checkRawOutputSize(manifest: ModelManifest, input: PreparedInput, maxElements: number): void {
  const shape = (manifest.outputs[0] as { shape: number[] }).shape.map((dim) => (dim === -1 ? 1 : dim));
  const elements =
    input.kind === 'image'
      ? (shape[1] ?? 1) * input.image.width * input.image.height
      : shape.reduce((product, dim) => product * dim, 1);
  if (elements > maxElements) {
    throw new JobFailure(
      'invalid-input',
      `raw outputs of ${manifest.name} would have ${elements} elements; the limit is ${maxElements} elements (MAX_RAW_OUTPUT_ELEMENTS), so submit a smaller input or omit outputs=raw`,
    );
  }
}
