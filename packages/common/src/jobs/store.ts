import {
  type JobError,
  type JobRepresentation,
  type JobResult,
  type JobStatus,
  JobStatusSchema,
  type Priority,
  PrioritySchema,
} from '@medai-flow/contracts';
import type { Redis } from 'ioredis';
import type { RedisKeys } from '../redis/keys.js';
import {
  ADMISSION_HOLD_MS,
  type Admission,
  type AdmissionLimits,
  CREATE_SCRIPT,
  DISCARD_SCRIPT,
  toAdmission,
} from './admission.js';

/** A job as stored in its Redis hash. */
export interface JobRecord {
  id: string;
  model: string;
  owner: string;
  status: JobStatus;
  priority: Priority;
  requestId: string;
  createdAt: number;
  startedAt?: number;
  finishedAt?: number;
  deadlineAt?: number;
  inputSha256: string;
  resultSha256?: string;
  result?: JobResult;
  error?: JobError;
}

export type TerminalOutcome =
  | { status: 'succeeded'; result: JobResult; resultSha256: string }
  | { status: 'failed' | 'cancelled' | 'expired'; error: JobError };

export interface JobStoreOptions {
  /** How long a finished job's record is kept, in seconds. */
  resultTtlSeconds: number;
  /** How long a tombstone outlives the record, in seconds (the 410 window). */
  goneTtlSeconds: number;
  /**
   * Expiry of a job that never finishes (its queue was flushed, say), in seconds, so that no
   * record or input stays forever. Default 7 days.
   */
  maxJobAgeSeconds?: number;
}

const DEFAULT_MAX_JOB_AGE_SECONDS = 7 * 86_400;

/** Width of one drain-rate bucket, in seconds. */
export const DRAIN_BUCKET_SECONDS = 10;
/** Number of past buckets the drain rate averages over (one minute). */
export const DRAIN_WINDOW_BUCKETS = 6;

function drainBucket(now: number): number {
  return Math.floor(now / 1000 / DRAIN_BUCKET_SECONDS);
}

// Moves a queued job to running; a running job (retried after its worker died) stays running.
// Returns 1 when the caller may run the job, 0 when it has already ended (cancelled, expired),
// 2 when a cancel was requested while an earlier worker ran it.
const MARK_RUNNING = `
local status = redis.call('HGET', KEYS[1], 'status')
if status == 'queued' then
  redis.call('HSET', KEYS[1], 'status', 'running', 'startedAt', ARGV[1])
  return 1
end
if status == 'running' then
  if redis.call('HGET', KEYS[1], 'cancelRequested') == '1' then return 2 end
  return 1
end
return 0`;

// Records a cancel request on a running job and notifies the workers. The flag outlives the
// message, so a worker that takes the job over after a crash still cancels it.
const REQUEST_CANCEL = `
if redis.call('HGET', KEYS[1], 'status') ~= 'running' then return 0 end
redis.call('HSET', KEYS[1], 'cancelRequested', '1')
redis.call('PUBLISH', ARGV[1], ARGV[2])
return 1`;

// Moves a running job back to queued (its worker handed it back), forgetting its start time.
const MARK_QUEUED = `
if redis.call('HGET', KEYS[1], 'status') ~= 'running' then return 0 end
redis.call('HSET', KEYS[1], 'status', 'queued')
redis.call('HDEL', KEYS[1], 'startedAt')
return 1`;

// Ends a job once: sets the terminal fields, starts the retention clock, deletes the input,
// releases the owner's quota entry, writes the tombstone, counts the job in its model's drain-rate bucket and announces the end
// on the job-ended channel. Returns 0 when the job had already ended (or never existed).
const FINISH = `
local status = redis.call('HGET', KEYS[1], 'status')
if status ~= 'queued' and status ~= 'running' then return 0 end
if ARGV[5] ~= '' and status ~= ARGV[5] then return 0 end
redis.call('HSET', KEYS[1], 'status', ARGV[1], 'finishedAt', ARGV[2])
if ARGV[3] ~= '' then redis.call('HSET', KEYS[1], 'result', ARGV[3], 'resultSha256', ARGV[4]) end
if ARGV[6] ~= '' then redis.call('HSET', KEYS[1], 'error', ARGV[6]) end
redis.call('EXPIRE', KEYS[1], ARGV[7])
redis.call('DEL', KEYS[2])
local quota = redis.call('HGET', KEYS[1], 'quota')
if quota then
  redis.call('ZREM', ARGV[14] .. quota .. ':jobs', ARGV[13])
  redis.call('HDEL', ARGV[14] .. quota .. ':bytes', ARGV[13])
end
local owner = redis.call('HGET', KEYS[1], 'owner')
redis.call('SET', KEYS[3], owner, 'EX', ARGV[8])
local drained = ARGV[9] .. redis.call('HGET', KEYS[1], 'model') .. ':' .. ARGV[10]
redis.call('INCR', drained)
redis.call('EXPIRE', drained, ARGV[11])
redis.call('PUBLISH', ARGV[12], ARGV[13])
return 1`;

/**
 * The job records both services share: the gateway creates and reads them, workers move
 * them through their states. Every transition is one Lua script, so two actors (a worker
 * finishing, a gateway cancelling) never both win.
 */
export class JobStore {
  private readonly maxJobAgeSeconds: number;

  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
    private readonly options: JobStoreOptions,
  ) {
    this.maxJobAgeSeconds = options.maxJobAgeSeconds ?? DEFAULT_MAX_JOB_AGE_SECONDS;
  }

  /**
   * Writes a new queued job and its input bytes in one script, and counts the job against its
   * owner's quota until `finish` or `discard` releases it. With `limits`, the job is stored only
   * when the owner's unfinished jobs and their input bytes and the model's queue depth stay
   * within them; the depth check counts jobs admitted in the last `ADMISSION_HOLD_MS` that
   * `endAdmission` has not removed yet, so that concurrent submissions cannot pass the bound.
   */
  async create(record: JobRecord, input: Uint8Array, limits?: AdmissionLimits): Promise<Admission> {
    const fields = Object.entries({ ...serialize(record), quota: this.keys.quotaId(record.owner) }).flat();
    const reply = await this.redis.eval(
      CREATE_SCRIPT,
      7,
      this.keys.job(record.id),
      this.keys.input(record.id),
      this.keys.quotaJobs(record.owner),
      this.keys.quotaBytes(record.owner),
      this.keys.admitting(record.model),
      // Without limits the script reads no queue key, so the job key fills both places.
      limits?.queueKeys.wait ?? this.keys.job(record.id),
      limits?.queueKeys.prioritized ?? this.keys.job(record.id),
      record.id,
      String(record.createdAt),
      String(this.maxJobAgeSeconds),
      String(input.byteLength),
      scriptLimit(limits?.maxJobsPerSubject),
      scriptLimit(limits?.maxBytesPerSubject),
      limits ? scriptLimit(limits.maxQueueDepth) : '-1',
      String(ADMISSION_HOLD_MS),
      limits?.queueKeys.jobPrefix ?? '',
      Buffer.from(input.buffer, input.byteOffset, input.byteLength),
      ...fields,
    );
    return toAdmission(reply);
  }

  /** Stops counting an admitted job in its model's queue depth, once BullMQ contains it. */
  async endAdmission(record: Pick<JobRecord, 'id' | 'model'>): Promise<void> {
    await this.redis.zrem(this.keys.admitting(record.model), record.id);
  }

  /** Deletes a job that could not be queued, with its input, and releases its quota. */
  async discard(record: Pick<JobRecord, 'id' | 'model' | 'owner'>): Promise<void> {
    await this.redis.eval(
      DISCARD_SCRIPT,
      5,
      this.keys.job(record.id),
      this.keys.input(record.id),
      this.keys.quotaJobs(record.owner),
      this.keys.quotaBytes(record.owner),
      this.keys.admitting(record.model),
      record.id,
    );
  }

  /** Unfinished jobs of `subject` and the input bytes they hold, as the quota counts them. */
  async quotaUsage(subject: string): Promise<{ jobs: number; bytes: number }> {
    const [jobs, sizes] = await Promise.all([
      this.redis.zcard(this.keys.quotaJobs(subject)),
      this.redis.hvals(this.keys.quotaBytes(subject)),
    ]);
    return { jobs, bytes: sizes.reduce((sum, size) => sum + Number(size), 0) };
  }

  async get(id: string): Promise<JobRecord | null> {
    const hash = await this.redis.hgetall(this.keys.job(id));
    if (!hash.id) return null;
    return deserialize(hash);
  }

  /** Returns the owner of an ended job whose record has expired, or null when there is no tombstone. */
  async tombstoneOwner(id: string): Promise<string | null> {
    return this.redis.get(this.keys.tombstone(id));
  }

  async readInput(id: string): Promise<Buffer | null> {
    return this.redis.getBuffer(this.keys.input(id));
  }

  /**
   * Marks the job running. The result is `run` when it was queued or is retried after its
   * worker died, `ended` when it has already ended, and `cancel` when a cancel was requested
   * while an earlier worker ran it.
   */
  async markRunning(id: string, now: number): Promise<'run' | 'ended' | 'cancel'> {
    const reply = await this.redis.eval(MARK_RUNNING, 1, this.keys.job(id), String(now));
    if (reply === 1) return 'run';
    return reply === 2 ? 'cancel' : 'ended';
  }

  /**
   * Asks the worker running the job to cancel it (a message on the cancel channel, plus a flag
   * for a worker that takes the job over later). Returns false when the job is not running.
   */
  async requestCancel(id: string): Promise<boolean> {
    const reply = await this.redis.eval(REQUEST_CANCEL, 1, this.keys.job(id), this.keys.cancelChannel, id);
    return reply === 1;
  }

  /** Returns true when a running job went back to queued; false when it was not running. */
  async markQueued(id: string): Promise<boolean> {
    return (await this.redis.eval(MARK_QUEUED, 1, this.keys.job(id))) === 1;
  }

  /**
   * Ends the job with `outcome` unless it has already ended; with `onlyFrom`, only when the
   * job is currently in that state. Returns true when this call ended it.
   */
  async finish(
    id: string,
    outcome: TerminalOutcome,
    now: number,
    onlyFrom?: 'queued' | 'running',
  ): Promise<boolean> {
    const result = outcome.status === 'succeeded' ? JSON.stringify(outcome.result) : '';
    const resultSha256 = outcome.status === 'succeeded' ? outcome.resultSha256 : '';
    const error = outcome.status === 'succeeded' ? '' : JSON.stringify(outcome.error);
    const ended = await this.redis.eval(
      FINISH,
      3,
      this.keys.job(id),
      this.keys.input(id),
      this.keys.tombstone(id),
      outcome.status,
      String(now),
      result,
      resultSha256,
      onlyFrom ?? '',
      error,
      String(this.options.resultTtlSeconds),
      String(this.options.resultTtlSeconds + this.options.goneTtlSeconds),
      this.keys.drainedPrefix,
      String(drainBucket(now)),
      String(DRAIN_BUCKET_SECONDS * (DRAIN_WINDOW_BUCKETS + 1)),
      this.keys.jobEndedChannel,
      id,
      this.keys.quotaPrefix,
    );
    return ended === 1;
  }

  /**
   * Jobs of `model` that ended per second over the last `DRAIN_WINDOW_BUCKETS` whole buckets,
   * for backpressure estimates. 0 when none ended.
   */
  async drainRate(model: string, now: number): Promise<number> {
    const current = drainBucket(now);
    const keys = Array.from({ length: DRAIN_WINDOW_BUCKETS }, (_, i) =>
      this.keys.drained(model, current - 1 - i),
    );
    const counts = await this.redis.mget(...keys);
    const total = counts.reduce((sum, count) => sum + Number(count ?? 0), 0);
    return total / (DRAIN_BUCKET_SECONDS * DRAIN_WINDOW_BUCKETS);
  }
}

/** Turns a record into the body of `GET /v1/jobs/{id}`. */
export function toRepresentation(record: JobRecord, queuePosition?: number): JobRepresentation {
  const representation: JobRepresentation = {
    id: record.id,
    model: record.model,
    status: record.status,
    priority: record.priority,
    createdAt: new Date(record.createdAt).toISOString(),
  };
  if (record.startedAt !== undefined) representation.startedAt = new Date(record.startedAt).toISOString();
  if (record.finishedAt !== undefined) representation.finishedAt = new Date(record.finishedAt).toISOString();
  if (record.deadlineAt !== undefined) representation.deadline = new Date(record.deadlineAt).toISOString();
  if (record.status === 'queued' && queuePosition !== undefined) representation.queuePosition = queuePosition;
  if (record.result) representation.result = record.result;
  if (record.error) representation.error = record.error;
  return representation;
}

/** Converts a limit to a script argument; no limit becomes the largest safe integer. */
function scriptLimit(limit: number | undefined): string {
  return String(Math.min(limit ?? Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER));
}

function serialize(record: JobRecord): Record<string, string> {
  const hash: Record<string, string> = {
    id: record.id,
    model: record.model,
    owner: record.owner,
    status: record.status,
    priority: record.priority,
    requestId: record.requestId,
    createdAt: String(record.createdAt),
    inputSha256: record.inputSha256,
  };
  if (record.deadlineAt !== undefined) hash.deadlineAt = String(record.deadlineAt);
  return hash;
}

function deserialize(hash: Record<string, string>): JobRecord {
  const record: JobRecord = {
    id: hash.id ?? '',
    model: hash.model ?? '',
    owner: hash.owner ?? '',
    status: JobStatusSchema.parse(hash.status),
    priority: PrioritySchema.parse(hash.priority),
    requestId: hash.requestId ?? '',
    createdAt: Number(hash.createdAt),
    inputSha256: hash.inputSha256 ?? '',
  };
  if (hash.startedAt) record.startedAt = Number(hash.startedAt);
  if (hash.finishedAt) record.finishedAt = Number(hash.finishedAt);
  if (hash.deadlineAt) record.deadlineAt = Number(hash.deadlineAt);
  if (hash.resultSha256) record.resultSha256 = hash.resultSha256;
  if (hash.result) record.result = JSON.parse(hash.result) as JobResult;
  if (hash.error) record.error = JSON.parse(hash.error) as JobError;
  return record;
}
