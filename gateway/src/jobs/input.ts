import { createHash } from 'node:crypto';
import type { InputMediaType, JobInput, PublishedModel } from '@medai-flow/contracts';
import { GatewayError } from '../errors/gateway-error.js';
import { checkSignature } from './media.js';
import { checkVolumeShape, readNiftiDims } from './nifti.js';
import { encodeTensors, parseInferenceRequest } from './tensors.js';

/** A validated submission: the bytes stored for the worker and their description. */
export interface PreparedInput {
  bytes: Uint8Array;
  input: JobInput;
}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
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
  if (mediaType === 'application/json') {
    const { bytes, tensors } = encodeTensors(parseInferenceRequest(body), manifest.inputs);
    return {
      bytes,
      input: { kind: 'tensors', tensors, byteLength: bytes.byteLength, sha256: sha256(bytes) },
    };
  }
  if (body.byteLength === 0) throw new GatewayError('bad_request', 'the request body is empty');
  checkSignature(mediaType, body);
  if (mediaType === 'application/x-nifti') {
    const [input] = manifest.inputs;
    if (input) checkVolumeShape(readNiftiDims(body), input);
  }
  return {
    bytes: body,
    input: { kind: 'media', mediaType, byteLength: body.byteLength, sha256: sha256(body) },
  };
}
