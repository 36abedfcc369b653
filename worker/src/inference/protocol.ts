/**
 * Messages between the worker process and its inference processes. They travel over the
 * IPC channel of `child_process.fork` with `serialization: 'advanced'`, so typed arrays
 * arrive as typed arrays (structured clone), not as JSON number lists.
 */

/** onnxruntime tensor element types that jobs can carry. */
export type TensorType = 'float32' | 'float64' | 'int64' | 'int32' | 'int16' | 'int8' | 'uint8' | 'bool';

export type TensorData =
  | Float32Array
  | Float64Array
  | BigInt64Array
  | Int32Array
  | Int16Array
  | Int8Array
  | Uint8Array;

/** A tensor as plain data: element type, row-major values and dimensions. */
export interface WireTensor {
  type: TensorType;
  data: TensorData;
  dims: number[];
}

/**
 * Reduction the inference process applies to the output before sending it back. `argmax` takes
 * the channel (axis 1) with the highest score per element and returns uint8 labels, so a
 * large score tensor (brain-gwm: 201 MB) never crosses the IPC channel.
 */
export type OutputReduction = 'none' | 'argmax';

export type ParentMessage =
  | { type: 'load'; modelPath: string; intraOpThreads: number }
  | {
      type: 'run';
      runId: number;
      feeds: Record<string, WireTensor>;
      outputName: string;
      reduction: OutputReduction;
    };

export type ChildMessage =
  | { type: 'loaded'; inputNames: string[]; outputNames: string[] }
  | { type: 'load-failed'; message: string }
  | { type: 'result'; runId: number; output: WireTensor; inferenceMs: number }
  | { type: 'run-failed'; runId: number; message: string };
