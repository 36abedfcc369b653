import { randomUUID } from 'node:crypto';
import {
  type Admission,
  enqueueJob,
  type JobRecord,
  type JobStore,
  type Logger,
  openModelQueue,
  type Redis,
  type RedisKeys,
  type SubjectLimits,
  throttledErrorLog,
} from '@medai-flow/common';
import type { Priority, PublishedModel, QueueJobData } from '@medai-flow/contracts';
import type { Queue } from 'bullmq';
import type { Principal } from '../auth/principal.js';
import { GatewayError } from '../errors/gateway-error.js';
import type { Clock } from '../http/context.js';
import type { RedisCalls } from '../redis/redis-calls.js';
import type { PreparedInput } from './input.js';

const JOB_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Options of one submission, from its query and headers. */
export interface SubmitOptions {
  requestId: string;
  priority: Priority;
  /** Seconds from now after which the job ends `expired` or `cancelled`. */
  deadlineSeconds: number | undefined;
  rawOutputs: boolean;
  traceparent: string | undefined;
}

/** Creates, reads and cancels jobs on behalf of a principal; a job is visible to its owner only. */
export class JobService {
  private readonly queues = new Map<string, Queue<QueueJobData>>();

  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
    private readonly store: JobStore,
    private readonly redisCalls: RedisCalls,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly subjectLimits: SubjectLimits,
  ) {}

  queueOf(model: string): Queue<QueueJobData> {
    let queue = this.queues.get(model);
    if (!queue) {
      queue = openModelQueue(
        model,
        this.redis,
        this.keys,
        throttledErrorLog(this.logger, 'queue error', { model }),
      );
      this.queues.set(model, queue);
    }
    return queue;
  }

  /**
   * Stores and queues a job unless the subject's quota or the model's queue depth bound
   * (`maxQueueDepth`) rejects it; the admission result names which.
   */
  async submit(
    principal: Principal,
    manifest: PublishedModel,
    prepared: PreparedInput,
    options: SubmitOptions,
    maxQueueDepth: number,
  ): Promise<{ record: JobRecord; admission: Admission }> {
    const now = this.clock.now();
    const record: JobRecord = {
      id: randomUUID(),
      model: manifest.name,
      owner: principal.subject,
      status: 'queued',
      priority: options.priority,
      requestId: options.requestId,
      createdAt: now,
      inputSha256: prepared.input.sha256,
    };
    if (options.deadlineSeconds !== undefined) record.deadlineAt = now + options.deadlineSeconds * 1000;
    const data: QueueJobData = {
      jobId: record.id,
      model: record.model,
      owner: record.owner,
      requestId: record.requestId,
      createdAt: now,
      rawOutputs: options.rawOutputs,
      input: prepared.input,
    };
    if (options.traceparent !== undefined) data.traceparent = options.traceparent;
    if (record.deadlineAt !== undefined) data.deadlineAt = record.deadlineAt;
    const queue = this.queueOf(manifest.name);
    const admission = await this.redisCalls.run('job_enqueue', () =>
      enqueueJob(queue, this.store, record, prepared.bytes, data, { ...this.subjectLimits, maxQueueDepth }),
    );
    return { record, admission };
  }

  /** Returns the principal's job `id`; 404 for an unknown id and for another subject's job alike, 410 once its result expired. */
  async get(principal: Principal, id: string): Promise<JobRecord> {
    const notFound = () => new GatewayError('job_not_found', 'no job with this id exists for this subject');
    if (!JOB_ID.test(id)) throw notFound();
    const record = await this.redisCalls.run('job_read', () => this.store.get(id));
    if (record && record.owner === principal.subject) return record;
    if (record) throw notFound();
    const formerOwner = await this.redisCalls.run('job_read', () => this.store.tombstoneOwner(id));
    if (formerOwner === principal.subject) {
      throw new GatewayError('job_gone', 'the job has ended and its result is no longer kept');
    }
    throw notFound();
  }

  async close(): Promise<void> {
    const queues = [...this.queues.values()];
    this.queues.clear();
    await Promise.allSettled(queues.map((queue) => queue.close()));
  }
}
