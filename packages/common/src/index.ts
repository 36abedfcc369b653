export {
  type AuditAction,
  type AuditEvent,
  AuditLog,
  type AuditVerification,
  type ChainedAuditEvent,
  GENESIS_HASH,
  hashAuditEvent,
  verifyAuditChain,
} from './audit/log.js';
export {
  booleanFromEnv,
  ConfigError,
  loadConfig,
  type SharedEnv,
  sharedEnvSchema,
} from './config/load.js';
export {
  checkDicomAdmission,
  type DicomRejection,
  isDicomRejection,
  PIXEL_DATA_TAG,
  parseDicom,
  UNCOMPRESSED_TRANSFER_SYNTAXES,
} from './dicom/admission.js';
export {
  ADMISSION_HOLD_MS,
  type Admission,
  type AdmissionLimit,
  type AdmissionLimits,
} from './jobs/admission.js';
export {
  enqueueJob,
  INFERENCE_JOB_NAME,
  inferenceJobOptions,
  openModelQueue,
  type SubjectLimits,
} from './jobs/queue.js';
export {
  DRAIN_BUCKET_SECONDS,
  DRAIN_WINDOW_BUCKETS,
  type JobRecord,
  JobStore,
  type JobStoreOptions,
  type TerminalOutcome,
  toRepresentation,
} from './jobs/store.js';
export { type LoggedError, serializeError } from './logging/error-serializer.js';
export { createLogger, type Logger } from './logging/logger.js';
export { type ThrottleOptions, throttledErrorLog } from './logging/throttle.js';
export { ModelRegistry, type ModelRegistryOptions, type ServedModel } from './models/registry.js';
export { ListenError, toListenError } from './net/listen-error.js';
export {
  createRedis,
  type Redis,
  type RedisConnectionOptions,
  type RedisRole,
  redisOptions,
} from './redis/connection.js';
export { RedisKeys, sha256Hex } from './redis/keys.js';
