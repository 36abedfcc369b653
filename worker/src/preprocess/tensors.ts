import {
  BYTES_PER_ELEMENT,
  elementCount,
  type StoredTensor,
  type TensorDatatype,
} from '@medai-flow/contracts';
import { JobFailure } from '../errors.js';
import type { TensorData, TensorType, WireTensor } from '../inference/index.js';

/** onnxruntime element type of each v2 datatype. */
export const ORT_TYPES: Record<TensorDatatype, TensorType> = {
  BOOL: 'bool',
  UINT8: 'uint8',
  INT8: 'int8',
  INT16: 'int16',
  INT32: 'int32',
  INT64: 'int64',
  FP32: 'float32',
  FP64: 'float64',
};

/**
 * Reads the tensors of a `tensors` job from its input blob (raw little-endian bytes at the
 * stated offsets). The values are copied into aligned typed arrays and fed as given.
 */
export function readStoredTensors(
  blob: Uint8Array,
  tensors: readonly StoredTensor[],
): Record<string, WireTensor> {
  const feeds: Record<string, WireTensor> = {};
  for (const tensor of tensors) {
    const expectedBytes = elementCount(tensor.shape) * BYTES_PER_ELEMENT[tensor.datatype];
    if (tensor.byteLength !== expectedBytes || tensor.byteOffset + tensor.byteLength > blob.byteLength) {
      throw new JobFailure(
        'invalid-input',
        `tensor ${tensor.name} has ${tensor.byteLength} bytes at offset ${tensor.byteOffset}, expected ${expectedBytes} within an input of ${blob.byteLength} bytes`,
      );
    }
    const bytes = blob.slice(tensor.byteOffset, tensor.byteOffset + tensor.byteLength);
    feeds[tensor.name] = {
      type: ORT_TYPES[tensor.datatype],
      data: typedArray(tensor.datatype, bytes.buffer),
      dims: [...tensor.shape],
    };
  }
  return feeds;
}

function typedArray(datatype: TensorDatatype, buffer: ArrayBuffer): TensorData {
  switch (datatype) {
    case 'BOOL':
    case 'UINT8':
      return new Uint8Array(buffer);
    case 'INT8':
      return new Int8Array(buffer);
    case 'INT16':
      return new Int16Array(buffer);
    case 'INT32':
      return new Int32Array(buffer);
    case 'INT64':
      return new BigInt64Array(buffer);
    case 'FP32':
      return new Float32Array(buffer);
    case 'FP64':
      return new Float64Array(buffer);
  }
}
