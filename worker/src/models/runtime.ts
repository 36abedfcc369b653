import type { ModelManifest } from '@medai-flow/contracts';
import { ModelLoadError } from '../errors.js';
import { InferencePool, type SessionSignature } from '../inference/index.js';
import type { LoadedModel } from './repository.js';

/** A model ready to serve: its manifest, the SHA-256 of the file that runs, and its processes. */
export interface ModelRuntime {
  manifest: ModelManifest;
  sha256: string;
  pool: InferencePool;
}

export interface RuntimeOptions {
  intraOpThreads: number;
  processes: number;
}

/**
 * Starts the inference processes of a model and checks that the ONNX session's input and
 * output names are the manifest's. Throws a `ModelLoadError` naming the model otherwise.
 */
export async function startRuntime(model: LoadedModel, options: RuntimeOptions): Promise<ModelRuntime> {
  const { manifest, file } = model;
  checkServable(manifest);
  let started: { pool: InferencePool; signature: SessionSignature };
  try {
    started = await InferencePool.start({
      modelPath: file.path,
      intraOpThreads: options.intraOpThreads,
      size: options.processes,
    });
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new ModelLoadError(
      'session-failed',
      manifest.name,
      `onnxruntime cannot load ${file.path}: ${reason}`,
      {
        cause: error,
      },
    );
  }
  const mismatch = signatureMismatch(manifest, started.signature);
  if (mismatch) {
    await started.pool.close();
    throw new ModelLoadError(
      'session-mismatch',
      manifest.name,
      `${file.path} does not match its manifest: ${mismatch}`,
    );
  }
  return { manifest, sha256: file.sha256, pool: started.pool };
}

function signatureMismatch(manifest: ModelManifest, signature: SessionSignature): string | undefined {
  const expectedInputs = manifest.inputs.map((spec) => spec.name).join(', ');
  const expectedOutputs = manifest.outputs.map((spec) => spec.name).join(', ');
  if (signature.inputNames.join(', ') !== expectedInputs) {
    return `the session's inputs are ${signature.inputNames.join(', ')}, the manifest lists ${expectedInputs}`;
  }
  if (!manifest.outputs.every((spec) => signature.outputNames.includes(spec.name))) {
    return `the session's outputs are ${signature.outputNames.join(', ')}, the manifest lists ${expectedOutputs}`;
  }
  return undefined;
}

/**
 * Rejects manifests this worker cannot serve: image and volume inputs are decoded to one
 * float32 grey channel, so such models need an FP32 input of 1 channel in the declared layout.
 */
function checkServable(manifest: ModelManifest): void {
  const input = manifest.inputs[0];
  const output = manifest.outputs[0];
  const takesMedia = manifest.accepts.mediaTypes.some((type) => type !== 'application/json');
  const rank = manifest.preprocessing.layout === 'NCHW' ? 4 : 5;
  const problems: string[] = [];
  if (
    takesMedia &&
    input &&
    (input.datatype !== 'FP32' || input.shape.length !== rank || input.shape[1] !== 1)
  ) {
    problems.push(
      `inputs[0] must be FP32 with ${rank} dimensions and 1 channel for ${manifest.preprocessing.layout} images`,
    );
  }
  if (output && output.datatype !== 'FP32') problems.push('outputs[0] must be FP32 for postprocessing');
  if (manifest.postprocessing.kind === 'softmax-top' && manifest.task !== 'classification') {
    problems.push('softmax-top postprocessing needs task classification');
  }
  if (problems.length > 0) {
    throw new ModelLoadError(
      'manifest-invalid',
      manifest.name,
      `manifest of ${manifest.name} cannot be served: ${problems.join('; ')}`,
    );
  }
}
