import { createHash } from 'node:crypto';

/**
 * The Redis key layout. Every key starts with the deployment's prefix, so tests and
 * deployments sharing a server never meet. BullMQ's own keys live under `bullPrefix`.
 */
export class RedisKeys {
  constructor(readonly prefix: string) {}

  /** BullMQ `prefix` option; queues are named after their model. */
  get bullPrefix(): string {
    return `${this.prefix}:bull`;
  }

  /** Hash: the job record (status, owner, timings, result). */
  job(id: string): string {
    return `${this.prefix}:job:${id}`;
  }

  /** String: the input bytes, deleted when the job ends. */
  input(id: string): string {
    return `${this.prefix}:input:${id}`;
  }

  /** String: the owner of a job whose record expired, so that it answers 410 for a while. */
  tombstone(id: string): string {
    return `${this.prefix}:gone:${id}`;
  }

  /** String: an Idempotency-Key of a subject (hashed, since keys are client text). */
  idempotency(subject: string, key: string): string {
    return `${this.prefix}:idem:${sha256Hex(`${subject}\n${key}`)}`;
  }

  /** Prefix of a subject's quota keys: `<prefix><sha256(subject)>:jobs` and `:bytes`. */
  get quotaPrefix(): string {
    return `${this.prefix}:quota:`;
  }

  /** SHA-256 of a subject, as its quota keys and job records name it (subjects are client text). */
  quotaId(subject: string): string {
    return sha256Hex(subject);
  }

  /** Sorted set: ids of a subject's unfinished jobs, scored by creation time (epoch ms). */
  quotaJobs(subject: string): string {
    return `${this.quotaPrefix}${this.quotaId(subject)}:jobs`;
  }

  /** Hash: job id to input size in bytes, for a subject's unfinished jobs. */
  quotaBytes(subject: string): string {
    return `${this.quotaPrefix}${this.quotaId(subject)}:bytes`;
  }

  /**
   * Sorted set: ids of a model's jobs that passed the queue depth check but may not be in the
   * BullMQ queue yet, scored by admission time (epoch ms).
   */
  admitting(model: string): string {
    return `${this.prefix}:admitting:${model}`;
  }

  /** Hash: model name to published manifest JSON. */
  get models(): string {
    return `${this.prefix}:models`;
  }

  /** Sorted set: ids of the workers serving a model, scored by their last heartbeat (epoch ms). */
  modelWorkers(model: string): string {
    return `${this.prefix}:model-workers:${model}`;
  }

  /** Prefix of the per-model drain counters: `<prefix><model>:<bucket>`. */
  get drainedPrefix(): string {
    return `${this.prefix}:drained:`;
  }

  /** String: how many jobs of `model` ended in one 10-second bucket (epoch seconds / 10). */
  drained(model: string, bucket: number): string {
    return `${this.drainedPrefix}${model}:${bucket}`;
  }

  /** Pub/sub channel on which every job end is announced (message: the job id). */
  get jobEndedChannel(): string {
    return `${this.prefix}:job-ended`;
  }

  /** Pub/sub channel on which gateways ask workers to cancel a running job. */
  get cancelChannel(): string {
    return `${this.prefix}:cancel`;
  }

  /** String: a revoked token id, kept until the token's own expiry. */
  revokedToken(tokenId: string): string {
    return `${this.prefix}:revoked:jti:${sha256Hex(tokenId)}`;
  }

  /** String: epoch seconds before which every token of the subject is revoked. */
  revokedSubject(subject: string): string {
    return `${this.prefix}:revoked:sub:${sha256Hex(subject)}`;
  }

  /** String: the rate limiter's state for one scope (route tier) and one key (subject or address). */
  rateLimit(scope: string, key: string): string {
    return `${this.prefix}:rl:${scope}:${sha256Hex(key)}`;
  }

  /** Stream: the audit trail, one hash-chained event per entry. */
  get audit(): string {
    return `${this.prefix}:audit`;
  }

  /** String: the hash of the last audit event (the head of the chain). */
  get auditHead(): string {
    return `${this.prefix}:audit-head`;
  }
}

export function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}
