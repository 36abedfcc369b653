import { type Redis, type RedisKeys, throttledErrorLog } from '@medai-flow/common';
import type { QueueJobData } from '@medai-flow/contracts';
import { type Job, Worker } from 'bullmq';
import { toJobError } from '../errors.js';
import { finishWithRetry } from './finish.js';
import { createProcessor, type ProcessorDependencies } from './processor.js';

/** BullMQ's reason for a job that stalled more than `maxStalledCount` times (bullmq 6). */
const STALLED_TOO_OFTEN = 'job stalled more than allowable limit';

/** Shortest pause between two logged queue errors of one model, in milliseconds. */
const QUEUE_ERROR_LOG_INTERVAL_MS = 10_000;

export interface ConsumerOptions {
  connection: Redis;
  keys: RedisKeys;
  /** Job lock time; a lock is renewed every half of it while the job runs. */
  lockDurationMs: number;
  stalledIntervalMs: number;
  maxStalledCount: number;
}

/**
 * Consumes the queue of one model with as many concurrent jobs as it has inference
 * processes. A job whose worker died is taken over by BullMQ's stalled-job check; beyond
 * `maxStalledCount` takeovers it ends `failed` with `worker-lost`.
 */
export function startConsumer(deps: ProcessorDependencies, options: ConsumerOptions): Worker<QueueJobData> {
  const { manifest, pool } = deps.runtime;
  const worker = new Worker<QueueJobData>(manifest.name, createProcessor(deps), {
    connection: options.connection,
    prefix: options.keys.bullPrefix,
    concurrency: Math.max(1, pool.liveCount),
    lockDuration: options.lockDurationMs,
    stalledInterval: options.stalledIntervalMs,
    maxStalledCount: options.maxStalledCount,
  });
  worker.on('failed', (job, error) => {
    if (job) void endQueueFailure(deps, job, error);
  });
  worker.on('stalled', (jobId) => deps.logger.warn({ jobId, model: manifest.name }, 'job stalled'));
  worker.on(
    'error',
    throttledErrorLog(
      deps.logger,
      'queue error',
      { model: manifest.name },
      {
        intervalMs: QUEUE_ERROR_LOG_INTERVAL_MS,
        now: deps.now,
      },
    ),
  );
  return worker;
}

/** Ends the record of a job that BullMQ failed without running the processor. */
async function endQueueFailure(
  deps: ProcessorDependencies,
  job: Job<QueueJobData>,
  error: Error,
): Promise<void> {
  const jobId = job.id ?? '';
  const lost = error.message === STALLED_TOO_OFTEN;
  const jobError = lost
    ? toJobError(
        'worker-lost',
        `the job's worker stopped while running it more than the allowed number of times`,
      )
    : toJobError('inference-failed', `the queue failed the job: ${error.message}`);
  try {
    const logger = deps.logger.child({ jobId, model: deps.runtime.manifest.name });
    const outcome = { status: 'failed' as const, error: jobError };
    if (await finishWithRetry({ store: deps.store, jobId, outcome, now: deps.now(), logger })) {
      deps.metrics.jobsProcessed.inc({ model: deps.runtime.manifest.name, outcome: 'failed' });
      deps.logger.info(
        {
          jobId,
          model: deps.runtime.manifest.name,
          outcome: 'failed',
          code: lost ? 'worker-lost' : 'inference-failed',
        },
        'job failed',
      );
    }
  } catch (finishError) {
    deps.logger.error({ jobId, err: finishError }, 'job record update failed');
  }
}
