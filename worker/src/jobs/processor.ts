import {
  type AuditLog,
  type JobStore,
  type Logger,
  sha256Hex,
  type TerminalOutcome,
} from '@medai-flow/common';
import { type JobResult, type QueueJobData, QueueJobDataSchema } from '@medai-flow/contracts';
import { type Job, WaitingError } from 'bullmq';
import { JobFailure, toJobError } from '../errors.js';
import type { JobOutcome, WorkerMetrics } from '../metrics/index.js';
import type { ModelRuntime } from '../models/index.js';
import type { ActiveJobs, StopReason } from './active.js';
import { FinishFailed, finishWithRetry } from './finish.js';
import { failureOutcome } from './outcome.js';
import { runPipeline } from './pipeline.js';

export interface ProcessorDependencies {
  runtime: ModelRuntime;
  store: JobStore;
  audit: AuditLog;
  /** Actor of the audit events this worker appends. */
  workerId: string;
  active: ActiveJobs;
  metrics: WorkerMetrics;
  logger: Logger;
  now: () => number;
  inferenceTimeoutSeconds: number;
  maxRawOutputElements: number;
}

/**
 * Builds the BullMQ processor of one model. The job record in Redis is the source of truth:
 * a job runs only when `markRunning` allows it, and ends with exactly one `finish`, which
 * also deletes its input. Failures end the record, so the processor throws only to hand a
 * job back to the queue at shutdown.
 */
export function createProcessor(
  deps: ProcessorDependencies,
): (job: Job<QueueJobData>, token?: string) => Promise<void> {
  return async (job, token) => {
    const jobId = job.id ?? '';
    const parsed = QueueJobDataSchema.safeParse(job.data);
    if (!parsed.success) {
      const error = toJobError(
        'invalid-input',
        `job data is invalid: ${parsed.error.issues[0]?.message ?? 'unknown field'}`,
      );
      await end(deps, { jobId, outcome: { status: 'failed', error }, logger: deps.logger.child({ jobId }) });
      return;
    }
    const data = parsed.data;
    const logger = deps.logger.child({ jobId, model: data.model, requestId: data.requestId });
    const pickedUpAt = deps.now();
    if (data.deadlineAt !== undefined && pickedUpAt >= data.deadlineAt) {
      await expire(deps, jobId, logger);
      return;
    }
    const marked = await deps.store.markRunning(jobId, pickedUpAt);
    if (marked === 'ended') {
      logger.info('job skipped');
      return;
    }
    if (marked === 'cancel') {
      const error = toJobError('job-cancelled', 'the job was cancelled while it was running');
      await end(deps, { jobId, outcome: { status: 'cancelled', error }, logger, onlyFrom: 'running' });
      return;
    }
    deps.metrics.queueWait.observe({ model: data.model }, Math.max(0, pickedUpAt - data.createdAt) / 1000);
    logger.info({ attempt: job.attemptsStarted }, 'job started');
    await runTracked(deps, job, token, data, pickedUpAt, logger);
  };
}

async function runTracked(
  deps: ProcessorDependencies,
  job: Job<QueueJobData>,
  token: string | undefined,
  data: QueueJobData,
  pickedUpAt: number,
  logger: Logger,
): Promise<void> {
  const jobId = data.jobId;
  const controller = deps.active.register(jobId);
  const timers = [
    setTimeout(() => controller.abort('timeout' satisfies StopReason), deps.inferenceTimeoutSeconds * 1000),
  ];
  if (data.deadlineAt !== undefined) {
    timers.push(
      setTimeout(
        () => controller.abort('deadline' satisfies StopReason),
        Math.max(0, data.deadlineAt - deps.now()),
      ),
    );
  }
  try {
    const result = await succeed(deps, data, pickedUpAt, controller.signal);
    const resultSha256 = sha256Hex(JSON.stringify(result));
    await end(deps, {
      jobId,
      outcome: { status: 'succeeded', result, resultSha256 },
      logger,
      onlyFrom: 'running',
    });
  } catch (error) {
    // The end could not be written: failing it again would wait as long and fail alike.
    if (error instanceof FinishFailed) throw error;
    const reason = controller.signal.aborted ? (controller.signal.reason as StopReason) : undefined;
    if (reason === 'shutdown') {
      await handBack(job, token, deps, logger);
      return;
    }
    const { outcome, internal } = failureOutcome(error, reason, deps.inferenceTimeoutSeconds);
    if (internal) logger.error({ err: error }, 'job error');
    await end(deps, { jobId, outcome, logger, onlyFrom: 'running' });
  } finally {
    for (const timer of timers) clearTimeout(timer);
    deps.active.unregister(jobId);
  }
}

async function succeed(
  deps: ProcessorDependencies,
  data: QueueJobData,
  pickedUpAt: number,
  signal: AbortSignal,
): Promise<JobResult> {
  const bytes = await deps.store.readInput(data.jobId);
  if (bytes === null) throw new JobFailure('invalid-input', 'the input of the job is missing from Redis');
  const output = await runPipeline(deps.runtime, data, bytes, deps.maxRawOutputElements, signal);
  deps.metrics.inferenceDuration.observe({ model: data.model }, output.inferenceMs / 1000);
  for (let run = 0; run < output.runs; run += 1) deps.metrics.batchSize.observe({ model: data.model }, 1);
  const { manifest, sha256 } = deps.runtime;
  return {
    model: { name: manifest.name, version: manifest.version, sha256 },
    timings: {
      queueMs: Math.max(0, pickedUpAt - data.createdAt),
      preprocessMs: Math.round(output.preprocessMs * 10) / 10,
      inferenceMs: Math.round(output.inferenceMs * 10) / 10,
    },
    ...output.sections,
  };
}

/** Ends a job picked up after its deadline: `expired` if it never started, `cancelled` if a lost worker had started it. */
async function expire(deps: ProcessorDependencies, jobId: string, logger: Logger): Promise<void> {
  const now = deps.now();
  const model = deps.runtime.manifest.name;
  const error = toJobError('deadline-exceeded', 'the deadline passed before the job started');
  const expired = { status: 'expired' as const, error };
  if (
    await finishWithRetry({ store: deps.store, jobId, outcome: expired, now, onlyFrom: 'queued', logger })
  ) {
    countOutcome(deps, model, 'expired', logger, 'deadline-exceeded');
    return;
  }
  const lost = toJobError('deadline-exceeded', 'the deadline passed while the job was running');
  await end(deps, { jobId, outcome: { status: 'cancelled', error: lost }, logger, onlyFrom: 'running' });
}

interface Ending {
  jobId: string;
  outcome: TerminalOutcome;
  logger: Logger;
  /** End the job only from this state; unset ends it from queued or running. */
  onlyFrom?: 'queued' | 'running';
}

/**
 * Finishes the record once, retrying while Redis rejects the write; counts and logs the outcome
 * only when this call ended the job. Throws `FinishFailed` when the retries run out.
 */
async function end(deps: ProcessorDependencies, ending: Ending): Promise<void> {
  const { jobId, outcome, logger } = ending;
  const ended = await finishWithRetry({
    store: deps.store,
    jobId,
    outcome,
    now: deps.now(),
    ...(ending.onlyFrom ? { onlyFrom: ending.onlyFrom } : {}),
    logger,
  });
  if (!ended) {
    logger.info({ outcome: outcome.status }, 'job already ended');
    return;
  }
  const code = outcome.status === 'succeeded' ? undefined : outcome.error.type.split('/').pop();
  // NOTE: the record is final once finishWithRetry returns. A worker killed before the next
  // lines leaves the job ended without its log line, metric and audit event. One soak run
  // with 25 SIGKILLs ended one of 2000 jobs without a log line, which fits this window.
  countOutcome(deps, deps.runtime.manifest.name, outcome.status, logger, code);
  const { manifest, sha256 } = deps.runtime;
  await deps.audit.record(
    {
      action: `job.${outcome.status}`,
      actor: `worker:${deps.workerId}`,
      jobId,
      model: manifest.name,
      modelVersion: manifest.version,
      modelSha256: sha256,
      ...(outcome.status === 'succeeded' ? { resultSha256: outcome.resultSha256 } : {}),
    },
    logger,
  );
}

/** Counts an ended job and logs it; `code` is the problem code, never the detail, which may quote the input. */
function countOutcome(
  deps: ProcessorDependencies,
  model: string,
  outcome: JobOutcome,
  logger: Logger,
  code?: string,
): void {
  deps.metrics.jobsProcessed.inc({ model, outcome });
  if (outcome === 'succeeded') logger.info('job succeeded');
  else logger.info({ outcome, code }, outcome === 'failed' ? 'job failed' : `job ${outcome}`);
}

/** Returns a job stopped by shutdown to the queue, so that another worker runs it. */
async function handBack(
  job: Job<QueueJobData>,
  token: string | undefined,
  deps: ProcessorDependencies,
  logger: Logger,
): Promise<void> {
  await deps.store.markQueued(job.data.jobId);
  await job.moveToWait(token);
  logger.info('job returned to queue');
  throw new WaitingError();
}
