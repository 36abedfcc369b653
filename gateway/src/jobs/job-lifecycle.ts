import {
  type AuditLog,
  type JobRecord,
  type JobStore,
  type Logger,
  toRepresentation,
} from '@medai-flow/common';
import {
  isTerminal,
  type JobError,
  type JobRepresentation,
  PROBLEM_CODES,
  problemType,
} from '@medai-flow/contracts';
import type { Principal } from '../auth/principal.js';
import { GatewayError } from '../errors/gateway-error.js';
import type { Clock } from '../http/context.js';
import type { RedisCalls } from '../redis/redis-calls.js';
import type { JobService } from './job-service.js';
import type { QueueState } from './queue-state.js';

/** Result of a cancel request: the job now, and whether its end is still to come from a worker. */
export interface CancelResult {
  record: JobRecord;
  /** True when the job was running: the cancel request went to the workers and the job ends shortly. */
  pending: boolean;
}

function jobError(code: 'deadline-exceeded' | 'job-cancelled', detail: string): JobError {
  return { type: problemType(code), title: PROBLEM_CODES[code].title, detail };
}

/**
 * Gateway-side handling of submitted jobs: reads that also end a job whose deadline passed in
 * the queue, the representation with the queue position, and cancellation.
 */
export class JobLifecycle {
  constructor(
    private readonly jobs: JobService,
    private readonly store: JobStore,
    private readonly queueState: QueueState,
    private readonly redisCalls: RedisCalls,
    private readonly clock: Clock,
    private readonly audit: AuditLog,
    private readonly logger: Logger,
  ) {}

  /**
   * The principal's job, as `JobService.get` returns it, except that a queued job whose
   * deadline has passed is ended `expired` here, so its status is right even while no worker
   * serves the model.
   */
  async read(principal: Principal, id: string): Promise<JobRecord> {
    const record = await this.jobs.get(principal, id);
    const now = this.clock.now();
    if (record.status !== 'queued' || record.deadlineAt === undefined || now < record.deadlineAt)
      return record;
    const error = jobError('deadline-exceeded', 'the deadline passed before the job started');
    const ended = await this.redisCalls.run('job_write', () =>
      this.store.finish(record.id, { status: 'expired', error }, now, 'queued'),
    );
    if (ended) {
      await this.removeFromQueue(record);
      await this.recordEnd('job.expired', record, 'gateway');
    }
    return this.jobs.get(principal, id);
  }

  /** Appends the end of a job the gateway ended itself to the audit trail. */
  private async recordEnd(
    action: 'job.expired' | 'job.cancelled',
    record: JobRecord,
    actor: string,
  ): Promise<void> {
    const event = { action, actor, requestId: record.requestId, jobId: record.id, model: record.model };
    await this.audit.record({ ...event, inputSha256: record.inputSha256 }, this.logger);
  }

  /** The job as the API returns it; a queued job gets its approximate queue position. */
  async represent(record: JobRecord): Promise<JobRepresentation> {
    if (record.status !== 'queued') return toRepresentation(record);
    return toRepresentation(record, await this.queueState.position(record.model, record.id));
  }

  /**
   * Cancels the principal's job. A queued job ends `cancelled` at once and leaves the queue.
   * For a running job, the id is published on the cancel channel, and the worker running it
   * stops the inference and ends the record. A job that has ended is a 409 `job-finished`.
   */
  async cancel(principal: Principal, id: string): Promise<CancelResult> {
    let record = await this.read(principal, id);
    if (record.status === 'queued') {
      const error = jobError('job-cancelled', 'the job was cancelled before it started');
      const ended = await this.redisCalls.run('job_cancel', () =>
        this.store.finish(record.id, { status: 'cancelled', error }, this.clock.now(), 'queued'),
      );
      if (ended) {
        await this.removeFromQueue(record);
        await this.recordEnd('job.cancelled', record, principal.subject);
        return { record: await this.jobs.get(principal, id), pending: false };
      }
      // A worker started it (or it ended) between the read and the cancel.
      record = await this.jobs.get(principal, id);
    }
    if (record.status === 'running') {
      const requested = await this.redisCalls.run('job_cancel', () => this.store.requestCancel(record.id));
      // Not running any more: it ended between the read and the request.
      if (!requested) record = await this.jobs.get(principal, id);
      else return { record, pending: true };
    }
    if (isTerminal(record.status)) {
      throw new GatewayError('job_finished', `the job has already ended with status ${record.status}`, {
        extensions: { status: record.status },
      });
    }
    throw new Error(`job ${record.id} is in an unexpected state ${record.status}`);
  }

  /**
   * Removes an ended job's BullMQ entry. BullMQ does not remove a job a worker holds locked
   * (it returns 0); that worker's `markRunning` then finds the record ended and skips it.
   */
  private async removeFromQueue(record: JobRecord): Promise<void> {
    try {
      await this.redisCalls.run('job_cancel', () => this.jobs.queueOf(record.model).remove(record.id));
    } catch (error) {
      // Clients see the ended record, and a worker skips a leftover queue entry, so the failure
      // is logged instead of failing the request.
      this.logger.warn({ jobId: record.id, model: record.model, err: error }, 'queue entry removal failed');
    }
  }
}
