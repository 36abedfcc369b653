import type { TensorDatatype, V2OutputTensor } from '@medai-flow/contracts';
import { JobFailure } from '../errors.js';
import type { TensorType, WireTensor } from '../inference/index.js';

const V2_DATATYPES: Record<TensorType, TensorDatatype> = {
  bool: 'BOOL',
  uint8: 'UINT8',
  int8: 'INT8',
  int16: 'INT16',
  int32: 'INT32',
  int64: 'INT64',
  float32: 'FP32',
  float64: 'FP64',
};

/**
 * Converts an output tensor to the v2 JSON format. Fails when it has more than
 * `maxElements` elements, since a JSON number list of that size would not fit a result.
 */
export function toV2Output(name: string, tensor: WireTensor, maxElements: number): V2OutputTensor {
  if (tensor.data.length > maxElements) {
    throw new JobFailure(
      'invalid-input',
      `raw output ${name} has ${tensor.data.length} elements; the limit is ${maxElements} elements (MAX_RAW_OUTPUT_ELEMENTS), so submit a smaller input or omit outputs=raw`,
    );
  }
  return {
    name,
    shape: [...tensor.dims],
    datatype: V2_DATATYPES[tensor.type],
    data: Array.from(tensor.data as ArrayLike<number | bigint>, Number),
  };
}
