import type { JobInput, ModelManifest } from '@medai-flow/contracts';
import { JobFailure } from '../errors.js';
import type { WireTensor } from '../inference/index.js';
import { decodeDicom } from './dicom.js';
import { mayOverflow, requireFinite } from './finite.js';
import { decodeImage } from './image.js';
import { decodeNifti } from './nifti.js';
import { normalizeInPlace } from './normalize.js';
import { ORT_TYPES, readStoredTensors } from './tensors.js';
import type { PreparedInput } from './types.js';

/**
 * Decodes a job's input and applies the manifest's preprocessing. Tensor inputs are checked
 * against the model's inputs and fed as given, without preprocessing.
 */
export async function prepareInput(
  manifest: ModelManifest,
  input: JobInput,
  bytes: Uint8Array,
  signal?: AbortSignal,
): Promise<PreparedInput> {
  const mediaType = input.kind === 'tensors' ? 'application/json' : input.mediaType;
  if (!manifest.accepts.mediaTypes.includes(mediaType)) {
    throw new JobFailure(
      'unsupported-media-type',
      `${manifest.name} does not accept ${mediaType}; it accepts ${manifest.accepts.mediaTypes.join(', ')}`,
    );
  }
  if (input.kind === 'tensors') {
    const feeds = readStoredTensors(bytes, input.tensors);
    checkFeeds(manifest, feeds);
    return { kind: 'tensors', feeds };
  }
  const { normalize, layout } = manifest.preprocessing;
  if (layout === 'NCHW' && mediaType !== 'application/x-nifti') {
    const image =
      mediaType === 'application/dicom'
        ? decodeDicom(bytes, { modalities: manifest.accepts.modalities ?? [] })
        : await decodeImage(bytes);
    const description = mediaType === 'application/dicom' ? 'the DICOM image' : 'the image';
    requireFinite(image.data, `${description} after decoding and rescaling`);
    await checkpoint(signal);
    normalizeInPlace(image.data, normalize);
    if (mayOverflow(normalize)) requireFinite(image.data, `${description} after normalisation`);
    await checkpoint(signal);
    return { kind: 'image', image };
  }
  if (layout === 'NCDHW' && mediaType === 'application/x-nifti') {
    const [, , depth = -1, height = -1, width = -1] = (manifest.inputs[0] as { shape: number[] }).shape;
    const volume = await decodeNifti(bytes, [width, height, depth]);
    requireFinite(volume.data, 'the NIfTI volume after decoding and scaling');
    await checkpoint(signal);
    normalizeInPlace(volume.data, normalize);
    if (mayOverflow(normalize)) requireFinite(volume.data, 'the NIfTI volume after normalisation');
    await checkpoint(signal);
    return { kind: 'volume', volume };
  }
  throw new JobFailure(
    'unsupported-media-type',
    `${mediaType} cannot feed ${manifest.name}, whose input layout is ${layout}`,
  );
}

/**
 * Checks tensors against the manifest: same names, datatypes and shapes, where -1 (the batch
 * dimension) must be 1 because postprocessing and results describe one item.
 */
function checkFeeds(manifest: ModelManifest, feeds: Record<string, WireTensor>): void {
  const expectedNames = manifest.inputs.map((spec) => spec.name);
  const extra = Object.keys(feeds).filter((name) => !expectedNames.includes(name));
  if (extra.length > 0) {
    throw new JobFailure(
      'invalid-input',
      `unknown input tensor ${extra.join(', ')}; ${manifest.name} takes ${expectedNames.join(', ')}`,
    );
  }
  for (const spec of manifest.inputs) {
    const feed = feeds[spec.name];
    if (!feed) throw new JobFailure('invalid-input', `input tensor ${spec.name} is missing`);
    const expectedShape = spec.shape.map((dim) => (dim === -1 ? 1 : dim));
    if (feed.type !== ORT_TYPES[spec.datatype] || feed.dims.join(',') !== expectedShape.join(',')) {
      throw new JobFailure(
        'invalid-input',
        `input tensor ${spec.name} must be ${spec.datatype} [${expectedShape.join(', ')}], got ${feed.type} [${feed.dims.join(', ')}]`,
      );
    }
  }
}

/**
 * Lets pending events run, then throws when `signal` has aborted. A cancel request or a
 * deadline reaches the signal through the event loop, which the synchronous decoding and
 * normalisation loops block, so a check without the yield would not see it.
 */
async function checkpoint(signal: AbortSignal | undefined): Promise<void> {
  if (!signal) return;
  await new Promise((resolveYield) => setImmediate(resolveYield));
  signal.throwIfAborted();
}
