import type { JobStore, Redis } from '@medai-flow/common';
import type { QueueJobData } from '@medai-flow/contracts';
import type { Queue } from 'bullmq';
import { GatewayError } from '../errors/gateway-error.js';
import type { Clock } from '../http/context.js';
import type { RedisCalls } from '../redis/redis-calls.js';

export interface QueueLimits {
  /** Queued jobs per model beyond which submissions are rejected. */
  maxDepth: number;
  /** Per-model bounds that replace `maxDepth`. */
  maxDepthByModel: ReadonlyMap<string, number>;
  /** Maximum `Retry-After` of a `queue-full` response, also used while the drain rate is 0, in seconds. */
  maxRetryAfterSeconds: number;
}

/**
 * Reads a model's BullMQ queue for depth and position, in the key layout of BullMQ 6.7 (its Lua
 * scripts `addPrioritizedJob`, `includes/getPriorityScore` and `includes/fetchNextJob`).
 * - `wait` list: jobs without priority. Workers take them first, from the right end.
 * - `prioritized` sorted set: score `priority * 2^32 + insertion counter`, so ZRANK is a job's
 *   place among prioritized jobs.
 * - `active` list: jobs a worker has picked up.
 * The gateway gives every job a priority, so `wait` contains only jobs that other producers added.
 */
export class QueueState {
  constructor(
    private readonly redis: Redis,
    private readonly queueOf: (model: string) => Queue<QueueJobData>,
    private readonly store: JobStore,
    private readonly redisCalls: RedisCalls,
    private readonly clock: Clock,
    private readonly limits: QueueLimits,
  ) {}

  /** Waiting plus prioritized jobs of `model`, read in one round trip. */
  async depth(model: string): Promise<number> {
    const queue = this.queueOf(model);
    const replies = await this.redisCalls.run('queue_read', () =>
      this.redis.multi().llen(queue.toKey('wait')).zcard(queue.toKey('prioritized')).exec(),
    );
    return replyNumber(replies, 0) + replyNumber(replies, 1);
  }

  /**
   * Number of queued jobs that BullMQ hands out before job `id` (0: it is next), or
   * undefined when the job is in none of the queue's lists. Jobs already running are not
   * counted. Approximate, because the queue moves while the response travels.
   */
  async position(model: string, id: string): Promise<number | undefined> {
    const queue = this.queueOf(model);
    const replies = await this.redisCalls.run('queue_read', () =>
      this.redis
        .multi()
        .llen(queue.toKey('wait'))
        .zrank(queue.toKey('prioritized'), id)
        .lpos(queue.toKey('wait'), id)
        .lpos(queue.toKey('active'), id)
        .exec(),
    );
    const waiting = replyNumber(replies, 0);
    const rank = replyValue(replies, 1);
    if (typeof rank === 'number') return waiting + rank;
    const waitIndex = replyValue(replies, 2);
    // Workers take wait-list jobs from the right end, so the jobs ahead are those to the right.
    if (typeof waitIndex === 'number') return waiting - 1 - waitIndex;
    // Picked up by a worker but not yet marked running.
    if (typeof replyValue(replies, 3) === 'number') return 0;
    return undefined;
  }

  /** Returns the queue depth bound of `model`: its override, else `maxDepth`. */
  bound(model: string): number {
    return this.limits.maxDepthByModel.get(model) ?? this.limits.maxDepth;
  }

  /**
   * Builds the 503 `queue-full` rejection of a submission to `model`, whose queue contains `depth`
   * jobs against `bound`. `Retry-After` is the time the model's recent drain rate needs to make
   * room for one more job, between 1 s and `maxRetryAfterSeconds`; with no job ended in the
   * last minute it is `maxRetryAfterSeconds`.
   */
  async queueFull(model: string, depth: number, bound: number): Promise<GatewayError> {
    const rate = await this.redisCalls.run('queue_read', () => this.store.drainRate(model, this.clock.now()));
    const excess = depth - bound + 1;
    const retryAfterSeconds =
      rate > 0
        ? Math.min(this.limits.maxRetryAfterSeconds, Math.max(1, Math.ceil(excess / rate)))
        : this.limits.maxRetryAfterSeconds;
    return new GatewayError(
      'queue_full',
      `the queue of model "${model}" holds ${depth} jobs, its limit is ${bound}; retry later`,
      { retryAfterSeconds, extensions: { queueDepth: depth, maxQueueDepth: bound } },
    );
  }
}

type MultiReplies = [error: Error | null, result: unknown][] | null;

function replyValue(replies: MultiReplies, index: number): unknown {
  const reply = replies?.[index];
  if (!reply) throw new Error(`queue read returned no reply ${index}`);
  if (reply[0]) throw reply[0];
  return reply[1];
}

function replyNumber(replies: MultiReplies, index: number): number {
  const value = replyValue(replies, index);
  if (typeof value !== 'number') throw new TypeError(`queue read reply ${index} is not a number`);
  return value;
}
