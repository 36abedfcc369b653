import { type Admission, type AuditLog, type JobRecord, type Logger, sha256Hex } from '@medai-flow/common';
import type { InputMediaType, PublishedModel } from '@medai-flow/contracts';
import type { Principal } from '../auth/principal.js';
import { GatewayError } from '../errors/gateway-error.js';
import type { GatewayMetrics } from '../metrics/catalog.js';
import { type IdempotencyStore, requestFingerprint } from './idempotency.js';
import type { PreparedInput } from './input.js';
import type { JobService, SubmitOptions } from './job-service.js';
import type { QueueState } from './queue-state.js';

/** A validated submission, ready to be queued. */
export interface Submission {
  principal: Principal;
  manifest: PublishedModel;
  mediaType: InputMediaType;
  /** The request body as received, for the Idempotency-Key fingerprint. */
  body: Uint8Array;
  prepared: PreparedInput;
  options: SubmitOptions;
  idempotencyKey: string | undefined;
}

export interface SubmissionOutcome {
  record: JobRecord;
  /** True when an earlier request with the same Idempotency-Key created the job. */
  replayed: boolean;
}

/**
 * Accepts submissions: Idempotency-Key handling, then the job, which the subject's quota and
 * the queue depth bound may reject. A claimed key is released when the submission fails, so
 * that a retry can go ahead.
 */
export class SubmissionService {
  constructor(
    private readonly jobs: JobService,
    private readonly idempotency: IdempotencyStore,
    private readonly queueState: QueueState,
    private readonly metrics: GatewayMetrics,
    private readonly audit: AuditLog,
    private readonly logger: Logger,
    private readonly options: { quotaRetryAfterSeconds: number },
  ) {}

  async submit(submission: Submission): Promise<SubmissionOutcome> {
    const { principal, manifest, idempotencyKey } = submission;
    if (idempotencyKey === undefined) return { record: await this.create(submission), replayed: false };

    const fingerprint = requestFingerprint({
      model: manifest.name,
      mediaType: submission.mediaType,
      priority: submission.options.priority,
      deadlineSeconds: submission.options.deadlineSeconds,
      rawOutputs: submission.options.rawOutputs,
      bodySha256: sha256Hex(submission.body),
    });
    const claimed = await this.idempotency.claim(principal.subject, idempotencyKey, fingerprint);
    if (claimed.kind === 'replay') {
      return { record: await this.jobs.get(principal, claimed.jobId), replayed: true };
    }

    let record: JobRecord;
    try {
      record = await this.create(submission);
    } catch (error) {
      await claimed.claim.release().catch((releaseError: unknown) => {
        this.logger.error(
          { requestId: submission.options.requestId, err: releaseError },
          'idempotency key release failed',
        );
      });
      throw error;
    }
    // The job is queued whatever happens to the key now, so a failure here is logged and the
    // request still succeeds. NOTE: a retry with this key then gets 409 until the claim expires
    // (60 s), and after that creates a second job.
    const logFields = { requestId: record.requestId, jobId: record.id };
    await claimed.claim.complete(record.id).then(
      (stored) => {
        if (!stored) this.logger.warn(logFields, 'idempotency claim expired before the job was accepted');
      },
      (error: unknown) => this.logger.error({ ...logFields, err: error }, 'idempotency key update failed'),
    );
    return { record, replayed: false };
  }

  private async create(submission: Submission): Promise<JobRecord> {
    const { principal, manifest, prepared, options } = submission;
    const bound = this.queueState.bound(manifest.name);
    const { record, admission } = await this.jobs.submit(principal, manifest, prepared, options, bound);
    if (!admission.admitted) throw await this.rejection(manifest.name, admission, prepared.bytes.byteLength);
    this.metrics.jobsSubmitted.inc({ model: manifest.name });
    this.logger.info({ requestId: record.requestId, jobId: record.id, model: record.model }, 'job submitted');
    await this.audit.record(
      {
        action: 'job.submitted',
        actor: record.owner,
        requestId: record.requestId,
        jobId: record.id,
        model: manifest.name,
        modelVersion: manifest.version,
        modelSha256: manifest.sha256,
        inputSha256: record.inputSha256,
      },
      this.logger,
    );
    return record;
  }

  /** The error for a job that the quota or the queue depth bound rejected. */
  private async rejection(
    model: string,
    admission: Extract<Admission, { admitted: false }>,
    inputBytes: number,
  ): Promise<GatewayError> {
    const { limit, current, max } = admission;
    if (limit === 'queue-depth') return this.queueState.queueFull(model, current, max);
    const retryAfterSeconds = this.options.quotaRetryAfterSeconds;
    if (limit === 'subject-jobs') {
      return new GatewayError(
        'quota_exceeded',
        `this subject has ${current} unfinished jobs, the limit is ${max} (QUEUE_MAX_JOBS_PER_SUBJECT); retry when one has ended`,
        { retryAfterSeconds, extensions: { limit: 'QUEUE_MAX_JOBS_PER_SUBJECT', current, max } },
      );
    }
    return new GatewayError(
      'quota_exceeded',
      `the unfinished jobs of this subject hold ${current} input bytes; ${inputBytes} more would pass the limit of ${max} bytes (QUEUE_MAX_BYTES_PER_SUBJECT); retry when a job has ended`,
      { retryAfterSeconds, extensions: { limit: 'QUEUE_MAX_BYTES_PER_SUBJECT', current, max, inputBytes } },
    );
  }
}
