import { checkDicomAdmission, isDicomRejection, parseDicom, sha256Hex } from '@medai-flow/common';
import type { InputMediaType, JobInput, PublishedModel, V2InferenceRequest } from '@medai-flow/contracts';
import { GatewayError } from '../errors/gateway-error.js';
import { checkImagePixels, readJpegSize, readPngSize } from './image-size.js';
import { checkSignature } from './media.js';
import { checkVolumeBytes, checkVolumeShape, readNiftiHeader } from './nifti.js';
import { encodeTensors, parseInferenceRequest } from './tensors.js';

/** A validated submission: the bytes stored for the worker and their description. */
export interface PreparedInput {
  bytes: Uint8Array;
  input: JobInput;
}

/**
 * Rejects, before queueing, a DICOM file the worker could not run: 415 for a compressed
 * transfer syntax, 422 for another modality or several frames. Only the header is parsed.
 */
function checkDicom(body: Uint8Array, manifest: PublishedModel): void {
  const dataSet = parseDicom(body, { headerOnly: true });
  const rejection = isDicomRejection(dataSet)
    ? dataSet
    : checkDicomAdmission(dataSet, manifest.accepts.modalities ?? []);
  if (!rejection) return;
  const code = rejection.code === 'unsupported-media-type' ? 'unsupported_media_type' : 'invalid_input';
  throw new GatewayError(code, rejection.detail);
}

/** Checks v2 tensors against the model's input and stores them as raw little-endian bytes. */
export function prepareTensorInput(request: V2InferenceRequest, manifest: PublishedModel): PreparedInput {
  const { bytes, tensors } = encodeTensors(request, manifest.inputs);
  return {
    bytes,
    input: { kind: 'tensors', tensors, byteLength: bytes.byteLength, sha256: sha256Hex(bytes) },
  };
}

/**
 * Validates a submission body against the model's manifest and turns it into the job input.
 * JSON tensors are stored as raw little-endian bytes; images, DICOM files and volumes as sent.
 */
export function prepareInput(
  mediaType: InputMediaType,
  body: Uint8Array,
  manifest: PublishedModel,
): PreparedInput {
  if (mediaType === 'application/json') return prepareTensorInput(parseInferenceRequest(body), manifest);
  if (body.byteLength === 0) throw new GatewayError('bad_request', 'the request body is empty');
  checkSignature(mediaType, body);
  if (mediaType === 'application/x-nifti') {
    const header = readNiftiHeader(body);
    const [input] = manifest.inputs;
    if (input) checkVolumeShape(header.dims, input);
    checkVolumeBytes(body, header);
  }
  if (mediaType === 'image/png') checkImagePixels(readPngSize(body));
  if (mediaType === 'image/jpeg') {
    const size = readJpegSize(body);
    if (size) checkImagePixels(size);
  }
  if (mediaType === 'application/dicom') checkDicom(body, manifest);
  return {
    bytes: body,
    input: { kind: 'media', mediaType, byteLength: body.byteLength, sha256: sha256Hex(body) },
  };
}
