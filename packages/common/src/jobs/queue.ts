import { BULLMQ_PRIORITY, type QueueJobData } from '@medai-flow/contracts';
import { type JobsOptions, Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { RedisKeys } from '../redis/keys.js';
import type { Admission } from './admission.js';
import type { JobRecord, JobStore } from './store.js';

/** BullMQ job name of every inference job. */
export const INFERENCE_JOB_NAME = 'infer';

/**
 * Opens the BullMQ queue of one model: one queue per model, named after it. `onError` receives
 * the queue's errors; without a listener BullMQ writes each one to the console.
 */
export function openModelQueue(
  model: string,
  connection: Redis,
  keys: RedisKeys,
  onError: (error: Error) => void,
): Queue<QueueJobData> {
  const queue = new Queue<QueueJobData>(model, { connection, prefix: keys.bullPrefix });
  queue.on('error', onError);
  return queue;
}

/**
 * BullMQ options of an inference job. BullMQ's copy is removed as soon as the job ends,
 * because the job record (JobStore) contains the state and result clients read; the worker
 * setting `maxStalledCount` bounds how often a job lost with its worker is retried.
 */
export function inferenceJobOptions(record: JobRecord): JobsOptions {
  return {
    jobId: record.id,
    priority: BULLMQ_PRIORITY[record.priority],
    attempts: 1,
    removeOnComplete: true,
    removeOnFail: true,
  };
}

/** Per-subject limits that `enqueueJob` applies together with the model's queue depth bound. */
export interface SubjectLimits {
  maxJobsPerSubject: number;
  maxBytesPerSubject: number;
}

/**
 * Stores the job record and its input, then queues the job. With `limits`, the store checks the
 * owner's quota and the queue depth bound atomically; a rejected job is neither stored nor queued. If
 * queueing fails, the record and input are deleted again (releasing the quota) and the error
 * is rethrown, so no job is left half-submitted.
 */
export async function enqueueJob(
  queue: Queue<QueueJobData>,
  store: JobStore,
  record: JobRecord,
  input: Uint8Array,
  data: QueueJobData,
  limits?: SubjectLimits & { maxQueueDepth: number },
): Promise<Admission> {
  const queueKeys = {
    wait: queue.toKey('wait'),
    prioritized: queue.toKey('prioritized'),
    jobPrefix: queue.toKey(''),
  };
  const admission = await store.create(record, input, limits && { ...limits, queueKeys });
  if (!admission.admitted) return admission;
  try {
    await queue.add(INFERENCE_JOB_NAME, data, inferenceJobOptions(record));
  } catch (error) {
    await store.discard(record).catch(() => undefined);
    throw error;
  }
  // The job is queued now. If this removal fails, the entry stops counting after
  // ADMISSION_HOLD_MS, and until then the depth is only overestimated by one.
  await store.endAdmission(record).catch(() => undefined);
  return admission;
}
