import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import {
  AuditLog,
  createRedis,
  JobStore,
  type Logger,
  ModelRegistry,
  openModelQueue,
  type Redis,
  RedisKeys,
  throttledErrorLog,
} from '@medai-flow/common';
import type { QueueJobData } from '@medai-flow/contracts';
import type { Queue, Worker } from 'bullmq';
import type { WorkerConfig } from './config/index.js';
import { ActiveJobs, CancellationListener, type ConsumerOptions, startConsumer } from './jobs/index.js';
import { Heartbeat, Shutdown, type ShutdownFailure } from './lifecycle/index.js';
import {
  MetricsServer,
  QUEUE_DEPTH_STATES,
  type QueueDepthSource,
  type ReadinessCheck,
  WorkerMetrics,
} from './metrics/index.js';
import { loadRepository, type ModelRuntime, startRuntime } from './models/index.js';

/** Maximum wait for Redis in a readiness check, in milliseconds. */
const READINESS_TIMEOUT_MS = 1_000;

/** Maximum wait for the first Redis connection at start-up, in milliseconds. */
const REDIS_START_TIMEOUT_MS = 30_000;

/** A running worker service. */
export interface WorkerService {
  workerId: string;
  metricsPort: number;
  runtimes: readonly ModelRuntime[];
  metrics: WorkerMetrics;
  /**
   * Stops taking jobs, waits up to DRAIN_GRACE_SECONDS for running ones, returns the rest
   * to their queues, then closes everything. Returns the same promise on every call.
   */
  close(): Promise<ShutdownFailure[]>;
}

/** Loads the models, connects to Redis and starts consuming; `now` is the clock of job records. */
export async function startWorkerService(
  config: WorkerConfig,
  logger: Logger,
  now: () => number = Date.now,
): Promise<WorkerService> {
  const workerId = `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
  const models = await loadRepository(
    {
      repositoryDir: config.MODEL_REPOSITORY,
      mirrorDir: config.MODEL_MIRROR_DIR,
      cacheDir: config.MODEL_CACHE_DIR,
    },
    config.WORKER_MODELS,
  );
  for (const { manifest, file } of models) {
    logger.info(
      { model: manifest.name, version: manifest.version, sha256: file.sha256, origin: file.origin },
      'model file verified',
    );
  }
  const runtimes: ModelRuntime[] = [];
  try {
    for (const model of models) {
      runtimes.push(
        await startRuntime(model, {
          intraOpThreads: config.INFERENCE_THREADS,
          processes: config.INFERENCE_PROCESSES,
        }),
      );
    }
  } catch (error) {
    await Promise.all(runtimes.map(({ pool }) => pool.close()));
    throw error;
  }
  for (const runtime of runtimes) watchPool(runtime, logger);
  return connect(config, logger, now, workerId, runtimes);
}

async function connect(
  config: WorkerConfig,
  logger: Logger,
  now: () => number,
  workerId: string,
  runtimes: ModelRuntime[],
): Promise<WorkerService> {
  const keys = new RedisKeys(config.REDIS_PREFIX);
  const redis = createRedis(config.REDIS_URL, { role: 'worker', connectionName: `worker:${workerId}` });
  const control = createRedis(config.REDIS_URL, {
    role: 'producer',
    connectionName: `worker-control:${workerId}`,
  });
  logRedisErrors(redis, logger);
  control.on('error', () => undefined);
  await whenReady(control, REDIS_START_TIMEOUT_MS);
  const store = new JobStore(redis, keys, {
    resultTtlSeconds: config.RESULT_TTL_SECONDS,
    goneTtlSeconds: config.GONE_TTL_SECONDS,
  });
  const audit = new AuditLog(redis, keys, now);
  const queues = new Map<string, Queue<QueueJobData>>(
    runtimes.map(({ manifest }) => [
      manifest.name,
      openModelQueue(
        manifest.name,
        control,
        keys,
        throttledErrorLog(logger, 'queue error', { model: manifest.name }),
      ),
    ]),
  );
  const metrics = new WorkerMetrics(queueDepthSource(queues), (error) =>
    logger.warn({ err: error }, 'queue depth unavailable'),
  );
  const heartbeat = new Heartbeat(new ModelRegistry(control, keys), runtimes, workerId, logger);
  await heartbeat.start(config.HEARTBEAT_INTERVAL_SECONDS * 1000);
  const active = new ActiveJobs();
  const cancellation = await CancellationListener.start(redis, keys, active, logger);
  const readiness = readinessCheck(runtimes, control);
  const server = await MetricsServer.start(
    metrics.registry,
    readiness,
    config.METRICS_HOST,
    config.METRICS_PORT,
  );
  const workers = runtimes.map((runtime) =>
    startConsumer(
      { ...consumerDependencies(config, logger, now), runtime, store, audit, workerId, active, metrics },
      consumerOptions(config, redis, keys),
    ),
  );
  await Promise.all(workers.map((worker) => worker.waitUntilReady()));
  const shutdown = new Shutdown([
    { name: 'heartbeat', run: () => heartbeat.withdraw() },
    { name: 'drain', run: () => drain(workers, active, config.DRAIN_GRACE_SECONDS, logger) },
    { name: 'cancellation', run: () => cancellation.close() },
    {
      name: 'inference',
      run: () => Promise.all(runtimes.map(({ pool }) => pool.close())).then(() => undefined),
    },
    { name: 'metrics', run: () => server.close() },
    {
      name: 'queues',
      run: () => Promise.all([...queues.values()].map((queue) => queue.close())).then(() => undefined),
    },
    { name: 'redis', run: () => Promise.all([redis.quit(), control.quit()]).then(() => undefined) },
  ]);
  return { workerId, metricsPort: server.port, runtimes, metrics, close: () => shutdown.run() };
}

function consumerDependencies(config: WorkerConfig, logger: Logger, now: () => number) {
  return {
    logger,
    now,
    inferenceTimeoutSeconds: config.INFERENCE_TIMEOUT_SECONDS,
    maxRawOutputElements: config.MAX_RAW_OUTPUT_ELEMENTS,
  };
}

function consumerOptions(config: WorkerConfig, connection: Redis, keys: RedisKeys): ConsumerOptions {
  return {
    connection,
    keys,
    lockDurationMs: config.LOCK_DURATION_SECONDS * 1000,
    stalledIntervalMs: config.STALLED_INTERVAL_SECONDS * 1000,
    maxStalledCount: config.MAX_STALLED_COUNT,
  };
}

/**
 * Closes the BullMQ workers, which stops fetching and waits for running jobs. When the
 * grace period ends first, the running jobs are stopped and handed back to their queues.
 */
async function drain(
  workers: Worker<QueueJobData>[],
  active: ActiveJobs,
  graceSeconds: number,
  logger: Logger,
): Promise<void> {
  const closed = Promise.all(workers.map((worker) => worker.close()));
  let timer: NodeJS.Timeout | undefined;
  const graceOver = new Promise<'grace over'>((resolve) => {
    timer = setTimeout(() => resolve('grace over'), graceSeconds * 1000);
  });
  if ((await Promise.race([closed, graceOver])) === 'grace over') {
    logger.warn({ jobs: active.stopAll('shutdown'), graceSeconds }, 'drain grace period over');
    await closed;
  }
  clearTimeout(timer);
}

/** Ready when every model has a live inference process and Redis responds in time. */
function readinessCheck(runtimes: readonly ModelRuntime[], control: Redis): ReadinessCheck {
  return async () => {
    const reasons = runtimes
      .filter(({ pool }) => pool.liveCount === 0)
      .map(({ manifest }) => `${manifest.name} has no inference process`);
    const timeout = sleep(READINESS_TIMEOUT_MS).then(() => 'timeout');
    const pong = await Promise.race([control.ping().catch(() => 'error'), timeout]);
    if (pong !== 'PONG') reasons.push('redis does not respond');
    return { ready: reasons.length === 0, reasons };
  };
}

function queueDepthSource(queues: Map<string, Queue<QueueJobData>>): QueueDepthSource {
  return async () => {
    const depths = [];
    for (const [model, queue] of queues) {
      const counts = await queue.getJobCounts(...QUEUE_DEPTH_STATES);
      for (const state of QUEUE_DEPTH_STATES) depths.push({ model, state, count: counts[state] ?? 0 });
    }
    return depths;
  };
}

function watchPool({ manifest, pool }: ModelRuntime, logger: Logger): void {
  pool.on('process-exited', (exit) => {
    if (exit.stopping) logger.info({ model: manifest.name, ...exit }, 'inference process stopped');
    else logger.warn({ model: manifest.name, ...exit }, 'inference process exited');
  });
  pool.on('process-replaced', ({ pid }) =>
    logger.info({ model: manifest.name, pid }, 'inference process replaced'),
  );
  pool.on('replace-failed', (error) =>
    logger.error({ model: manifest.name, err: error }, 'inference process start failed'),
  );
}

/** Logs the first error of a Redis outage and the reconnect that ends it. */
function logRedisErrors(redis: Redis, logger: Logger): void {
  let down = false;
  redis.on('error', (error) => {
    if (!down) logger.error({ err: error }, 'redis connection failed');
    down = true;
  });
  redis.on('ready', () => {
    if (down) logger.info('redis connection restored');
    down = false;
  });
}

/** Waits for the first connection; the producer-role connection has no offline queue. */
async function whenReady(redis: Redis, timeoutMs: number): Promise<void> {
  if (redis.status === 'ready') return;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`redis connection timed out after ${timeoutMs} ms`)),
      timeoutMs,
    );
    redis.once('ready', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
