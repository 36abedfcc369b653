export { InferencePool, type InferencePoolOptions, REPLACE_RETRY_DELAY_MS, RunAborted } from './pool.js';
export {
  CHILD_KILL_TIMEOUT_MS,
  InferenceProcessExit,
  InferenceRunError,
  type RunRequest,
  type RunResult,
  type SessionSignature,
} from './process.js';
export type { OutputReduction, TensorData, TensorType, WireTensor } from './protocol.js';
export { argmaxChannels } from './reduce.js';
