import type {
  ClassificationResult,
  ModelManifest,
  SegmentationResult,
  V2OutputTensor,
} from '@medai-flow/contracts';
import { JobFailure } from '../errors.js';
import type { ModelOutput } from '../execute/index.js';
import type { PreparedInput } from '../preprocess/index.js';
import { labelStats, labelsFromScores, softmaxTop } from './labels.js';
import { encodeNiftiMask, encodePngMask } from './mask.js';
import { toV2Output } from './outputs.js';

/** The task-specific parts of a job result. */
export interface ResultSections {
  segmentation?: SegmentationResult;
  classification?: ClassificationResult;
  outputs?: V2OutputTensor[];
}

export interface SectionOptions {
  rawOutputs: boolean;
  maxRawOutputElements: number;
}

/** Post-processes a model output as the manifest sets and encodes the result sections. */
export async function buildSections(
  manifest: ModelManifest,
  input: PreparedInput,
  modelOutput: ModelOutput,
  options: SectionOptions,
): Promise<ResultSections> {
  const sections: ResultSections = {};
  if (options.rawOutputs) {
    const name = (manifest.outputs[0] as { name: string }).name;
    sections.outputs = [toV2Output(name, modelOutput.output, options.maxRawOutputElements)];
  }
  if (manifest.task === 'classification') {
    if (manifest.postprocessing.kind !== 'softmax-top') {
      throw new JobFailure(
        'inference-failed',
        `classification needs softmax-top postprocessing, not ${manifest.postprocessing.kind}`,
      );
    }
    sections.classification = {
      top: softmaxTop(modelOutput.output.data as Float32Array, manifest.labels, manifest.postprocessing.top),
    };
    return sections;
  }
  sections.segmentation = await segmentation(manifest, input, modelOutput);
  return sections;
}

async function segmentation(
  manifest: ModelManifest,
  input: PreparedInput,
  modelOutput: ModelOutput,
): Promise<SegmentationResult> {
  const { output, reduced } = modelOutput;
  const labels = reduced ? (output.data as Uint8Array) : labelsFromScores(output, manifest.postprocessing);
  const spatial = reduced ? output.dims.slice(1) : output.dims.slice(2);
  const voxelVolumeMm3 =
    input.kind === 'image'
      ? input.image.voxelVolumeMm3
      : input.kind === 'volume'
        ? input.volume.voxelVolumeMm3
        : undefined;
  const stats = labelStats(labels, manifest.labels, voxelVolumeMm3);
  if (spatial.length === 2) {
    const [height = 0, width = 0] = spatial;
    const png = await encodePngMask(labels, width, height);
    return {
      labels: [...manifest.labels],
      mask: { mediaType: 'image/png', data: png.toString('base64') },
      stats,
    };
  }
  if (spatial.length === 3) {
    const [depth = 0, height = 0, width = 0] = spatial;
    const geometry = input.kind === 'volume' ? input.volume.geometry : undefined;
    const nifti = await encodeNiftiMask(labels, [width, height, depth], manifest.labels.length, geometry);
    return {
      labels: [...manifest.labels],
      mask: { mediaType: 'application/x-nifti+gzip', data: nifti.toString('base64') },
      stats,
    };
  }
  throw new JobFailure(
    'inference-failed',
    `output of ${manifest.name} has ${spatial.length} spatial dimensions; masks need 2 or 3`,
  );
}
