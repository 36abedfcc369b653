import { z } from 'zod';

/** Tensor datatypes of the KServe/Triton open inference protocol (v2) that the workers can feed to ONNX. */
export const TensorDatatypeSchema = z.enum([
  'BOOL',
  'UINT8',
  'INT8',
  'INT16',
  'INT32',
  'INT64',
  'FP32',
  'FP64',
]);
export type TensorDatatype = z.infer<typeof TensorDatatypeSchema>;

/** Bytes per element of each datatype, for binary storage of tensors. */
export const BYTES_PER_ELEMENT: Record<TensorDatatype, number> = {
  BOOL: 1,
  UINT8: 1,
  INT8: 1,
  INT16: 2,
  INT32: 4,
  INT64: 8,
  FP32: 4,
  FP64: 8,
};

/** Tensor elements in the v2 JSON format: flat in row-major order, or nested as the shape. */
export type V2TensorData = number | boolean | V2TensorData[];

/**
 * One input tensor of a v2 inference request. `data` is flat in row-major order or nested one
 * array per dimension, as KServe v2 examples send it. Only the outer array is checked here,
 * because the element types and nesting depend on `datatype` and `shape` (the gateway checks
 * both and names the element).
 */
export const V2InputTensorSchema = z.object({
  name: z.string().min(1).max(256),
  shape: z.array(z.number().int().nonnegative()).min(1).max(8),
  datatype: TensorDatatypeSchema,
  data: z.custom<V2TensorData[]>((value) => Array.isArray(value), { message: 'must be an array' }),
  parameters: z.record(z.string(), z.unknown()).optional(),
});
export type V2InputTensor = z.infer<typeof V2InputTensorSchema>;

/** Body of a v2 inference request (`POST /v2/models/{model}/infer`) and of a JSON job submission. */
export const V2InferenceRequestSchema = z.object({
  id: z.string().max(256).optional(),
  inputs: z.array(V2InputTensorSchema).min(1).max(16),
  outputs: z.array(z.object({ name: z.string() })).optional(),
  parameters: z.record(z.string(), z.unknown()).optional(),
});
export type V2InferenceRequest = z.infer<typeof V2InferenceRequestSchema>;

/** One output tensor in the v2 format. */
export interface V2OutputTensor {
  name: string;
  shape: number[];
  datatype: TensorDatatype;
  data: number[];
}

/** Body of a v2 inference response. */
export interface V2InferenceResponse {
  model_name: string;
  model_version: string;
  id?: string;
  outputs: V2OutputTensor[];
}

/** Number of elements of a tensor with this shape. */
export function elementCount(shape: readonly number[]): number {
  return shape.reduce((product, dim) => product * dim, 1);
}
