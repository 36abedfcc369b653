import {
  BYTES_PER_ELEMENT,
  type StoredTensor,
  type TensorDatatype,
  type TensorSpec,
  type V2InferenceRequest,
  V2InferenceRequestSchema,
  type V2InputTensor,
} from '@medai-flow/contracts';
import { GatewayError } from '../errors/gateway-error.js';
import { parseJsonBody } from '../http/json-body.js';
import { flattenTensorData } from './tensor-data.js';

/** Tensors as one little-endian byte blob plus where each tensor sits in it. */
export interface EncodedTensors {
  bytes: Uint8Array;
  tensors: StoredTensor[];
}

const INTEGER_RANGES: Partial<Record<TensorDatatype, [number, number]>> = {
  UINT8: [0, 255],
  INT8: [-128, 127],
  INT16: [-32_768, 32_767],
  INT32: [-2_147_483_648, 2_147_483_647],
  INT64: [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
};

function mismatch(detail: string, field: string, expected: unknown, received: unknown): GatewayError {
  return new GatewayError('invalid_input', detail, { extensions: { field, expected, received } });
}

/** Parses a v2 request body; 400 when it is not JSON, 422 naming the first invalid field. */
export function parseInferenceRequest(body: Uint8Array): V2InferenceRequest {
  return parseJsonBody(body, V2InferenceRequestSchema);
}

function checkShape(tensor: V2InputTensor, spec: TensorSpec, field: string): void {
  const fits =
    tensor.shape.length === spec.shape.length &&
    spec.shape.every((size, index) =>
      size === -1 ? (tensor.shape[index] ?? 0) > 0 : size === tensor.shape[index],
    );
  if (!fits) {
    throw mismatch(
      `input "${spec.name}" has shape [${tensor.shape.join(', ')}]; the model expects [${spec.shape.join(', ')}] (-1 is any size)`,
      `${field}.shape`,
      spec.shape,
      tensor.shape,
    );
  }
}

function checkTensor(tensor: V2InputTensor, spec: TensorSpec, field: string): void {
  if (tensor.datatype !== spec.datatype) {
    throw mismatch(
      `input "${spec.name}" has datatype ${tensor.datatype}; the model expects ${spec.datatype}`,
      `${field}.datatype`,
      spec.datatype,
      tensor.datatype,
    );
  }
  checkShape(tensor, spec, field);
}

function writeValue(view: DataView, datatype: TensorDatatype, offset: number, value: number): void {
  switch (datatype) {
    case 'BOOL':
    case 'UINT8':
      view.setUint8(offset, value);
      break;
    case 'INT8':
      view.setInt8(offset, value);
      break;
    case 'INT16':
      view.setInt16(offset, value, true);
      break;
    case 'INT32':
      view.setInt32(offset, value, true);
      break;
    case 'INT64':
      view.setBigInt64(offset, BigInt(value), true);
      break;
    case 'FP32':
      view.setFloat32(offset, value, true);
      break;
    case 'FP64':
      view.setFloat64(offset, value, true);
      break;
  }
}

/** Largest finite FP32 value; a larger magnitude is stored as infinity. */
const FP32_MAX = 3.4028234663852886e38;

/**
 * Describes a wrong element for a problem by its JSON type. The element is never serialized,
 * because an element can be an object nested a million levels deep, which overflows the stack of
 * `JSON.stringify`, or a string of megabytes.
 */
function describeElement(value: unknown): string | number | boolean {
  if (typeof value === 'number') return Number.isFinite(value) ? value : String(value);
  if (typeof value === 'boolean') return value;
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

/** Converts one element to the number stored, or throws naming the element (`field`). */
function elementValue(value: unknown, datatype: TensorDatatype, field: string): number {
  if (datatype === 'BOOL') {
    if (typeof value !== 'boolean') {
      throw mismatch(`${field} must be a boolean`, field, 'BOOL', describeElement(value));
    }
    return value ? 1 : 0;
  }
  if (typeof value !== 'number') {
    throw mismatch(`${field} must be a number`, field, datatype, describeElement(value));
  }
  // JSON.parse turns a number literal beyond the FP64 range, such as 1e400, into Infinity.
  if (!Number.isFinite(value)) {
    throw mismatch(`${field} must be a finite number`, field, datatype, describeElement(value));
  }
  const range = INTEGER_RANGES[datatype];
  if (range && (!Number.isInteger(value) || value < range[0] || value > range[1])) {
    throw mismatch(`${field} is not a valid ${datatype} value`, field, datatype, value);
  }
  if (datatype === 'FP32' && !Number.isFinite(Math.fround(value))) {
    throw mismatch(
      `${field} is outside the FP32 range of -${FP32_MAX} to ${FP32_MAX}`,
      field,
      datatype,
      value,
    );
  }
  return value;
}

/**
 * Validates the tensors of a v2 request against the model inputs (names, datatypes, shapes
 * and value counts, each mismatch a 422 naming expected and received) and encodes them as
 * raw little-endian bytes, never as JSON number arrays.
 */
export function encodeTensors(request: V2InferenceRequest, inputs: readonly TensorSpec[]): EncodedTensors {
  const byName = new Map(request.inputs.map((tensor, index) => [tensor.name, { tensor, index }]));
  for (const tensor of request.inputs) {
    if (!inputs.some((spec) => spec.name === tensor.name)) {
      const names = inputs.map((spec) => spec.name);
      throw mismatch(
        `the model has no input "${tensor.name}"; its inputs are ${names.join(', ')}`,
        'inputs',
        names,
        tensor.name,
      );
    }
  }
  const entries = inputs.map((spec) => {
    const found = byName.get(spec.name);
    if (!found) throw mismatch(`input "${spec.name}" is missing`, 'inputs', spec.name, [...byName.keys()]);
    const field = `inputs.${found.index}`;
    checkTensor(found.tensor, spec, field);
    return { ...found, flat: flattenTensorData(found.tensor.data, found.tensor.shape, field) };
  });

  const total = entries.reduce(
    (sum, { tensor, flat }) => sum + flat.values.length * BYTES_PER_ELEMENT[tensor.datatype],
    0,
  );
  const bytes = new Uint8Array(total);
  const view = new DataView(bytes.buffer);
  const tensors: StoredTensor[] = [];
  let offset = 0;
  for (const { tensor, flat } of entries) {
    const size = BYTES_PER_ELEMENT[tensor.datatype];
    const start = offset;
    flat.values.forEach((value, element) => {
      writeValue(
        view,
        tensor.datatype,
        offset,
        elementValue(value, tensor.datatype, flat.elementField(element)),
      );
      offset += size;
    });
    tensors.push({
      name: tensor.name,
      datatype: tensor.datatype,
      shape: tensor.shape,
      byteOffset: start,
      byteLength: offset - start,
    });
  }
  return { bytes, tensors };
}
