export { type WorkerConfig, workerEnvSchema } from './config/index.js';
export {
  JobFailure,
  type JobFailureCode,
  ModelLoadError,
  type ModelLoadErrorCode,
  toJobError,
} from './errors.js';
export { inferImage, inferVolume, planTiles } from './execute/index.js';
export { InferencePool, InferenceProcessExit, RunAborted } from './inference/index.js';
export { MetricsServer, WorkerMetrics } from './metrics/index.js';
export {
  type LoadedModel,
  loadRepository,
  type ModelRuntime,
  readManifest,
  resolveModelFile,
  startRuntime,
} from './models/index.js';
export {
  encodeNiftiMask,
  encodePngMask,
  labelStats,
  labelsFromScores,
  sigmoid,
} from './postprocess/index.js';
export { decodeDicom, decodeImage, decodeNifti, normalizeInPlace, prepareInput } from './preprocess/index.js';
export { startWorkerService, type WorkerService } from './service.js';
