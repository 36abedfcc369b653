import { availableParallelism } from 'node:os';
import { sharedEnvSchema } from '@medai-flow/common';
import { z } from 'zod';

const positiveInt = (max: number) => z.coerce.number().int().min(1).max(max);

/**
 * The worker's environment. Defaults and units are in the names; worker/README.md lists
 * every variable with its meaning.
 */
export const workerEnvSchema = sharedEnvSchema.extend({
  /** Folder of `<name>/model.json` (+ `model.onnx` when present). */
  MODEL_REPOSITORY: z.string({ message: 'is required (folder of <name>/model.json)' }).min(1),
  /** Folder of `<name>/model.onnx` files used instead of downloading; nothing touches the network when set. */
  MODEL_MIRROR_DIR: z.string().min(1).optional(),
  /** Folder of downloaded model files, named by their SHA-256. */
  MODEL_CACHE_DIR: z.string().min(1).default('.model-cache'),
  /** Comma-separated model names to serve; unset or empty serves every model of the repository. */
  WORKER_MODELS: z
    .string()
    .optional()
    .transform((value) =>
      (value ?? '')
        .split(',')
        .map((name) => name.trim())
        .filter((name) => name.length > 0),
    ),
  /** Port of /metrics, /healthz and /readyz; 0 takes any free port. */
  METRICS_PORT: z.coerce.number().int().min(0).max(65_535).default(9464),
  /** Address the metrics server binds to. */
  METRICS_HOST: z.string().min(1).default('0.0.0.0'),
  /** onnxruntime intra-op threads per inference process. */
  INFERENCE_THREADS: positiveInt(256).default(availableParallelism()),
  /** Inference processes per model, which is also the number of jobs a model runs at once. */
  INFERENCE_PROCESSES: positiveInt(64).default(1),
  /** Maximum time one job may take before its process is killed and the job fails, in seconds. */
  INFERENCE_TIMEOUT_SECONDS: positiveInt(86_400).default(600),
  /** How long SIGTERM waits for running jobs before returning them to the queue, in seconds. */
  DRAIN_GRACE_SECONDS: z.coerce.number().int().min(0).max(86_400).default(30),
  /** How often a job lost with its worker is run again before it fails as `worker-lost`. */
  MAX_STALLED_COUNT: z.coerce.number().int().min(0).max(100).default(1),
  /** BullMQ job lock time; a dead worker's job is taken over after at most this plus the stalled interval, in seconds. */
  LOCK_DURATION_SECONDS: positiveInt(3_600).default(30),
  /** How often BullMQ looks for jobs whose worker died, in seconds. */
  STALLED_INTERVAL_SECONDS: positiveInt(3_600).default(30),
  /** How often the served models are published with a heartbeat, in seconds. */
  HEARTBEAT_INTERVAL_SECONDS: positiveInt(60).default(5),
  /**
   * Largest raw output (elements) that `rawOutputs` may return as JSON numbers. The default
   * (1024 × 1024) keeps a result at about 20 MB of JSON: a 2048 × 2048 output made an 80 MB result
   * that took the gateway about 1.25 s to serve on each read.
   */
  MAX_RAW_OUTPUT_ELEMENTS: positiveInt(1 << 30).default(1_048_576),
});

export type WorkerConfig = z.infer<typeof workerEnvSchema>;
