/** Limits that `JobStore.create` checks and applies in the same script that stores the job. */
export interface AdmissionLimits {
  /** Unfinished jobs one subject may have across all models. */
  maxJobsPerSubject: number;
  /** Input bytes the unfinished jobs of one subject may hold in Redis, across all models. */
  maxBytesPerSubject: number;
  /** Waiting plus prioritized jobs of the model's queue beyond which the job is rejected. */
  maxQueueDepth: number;
  /**
   * BullMQ keys of the model's queue: `queue.toKey('wait')`, `queue.toKey('prioritized')`, and
   * `queue.toKey('')`, the prefix of its job hashes.
   */
  queueKeys: { wait: string; prioritized: string; jobPrefix: string };
}

/** The limit a rejected job would have exceeded. */
export type AdmissionLimit = 'subject-jobs' | 'subject-bytes' | 'queue-depth';

/** Outcome of `JobStore.create`: stored, or rejected with the usage it found and the limit. */
export type Admission =
  | { admitted: true }
  | { admitted: false; limit: AdmissionLimit; current: number; max: number };

/**
 * Time a job stays counted in its model's `admitting` set, in milliseconds. It covers the
 * BullMQ add that follows admission; an entry left by a gateway that died in between stops
 * counting after this.
 */
export const ADMISSION_HOLD_MS = 60_000;

// Checks a subject's quota and the model's queue depth, then stores the job, in one script so
// that concurrent submissions cannot all pass one check.
// KEYS: 1 job hash, 2 input, 3 quota jobs (zset), 4 quota bytes (hash), 5 admitting (zset),
//       6 BullMQ wait list, 7 BullMQ prioritized zset.
// ARGV: 1 job id, 2 now (ms), 3 max job age (s), 4 input bytes, 5 max jobs per subject,
//       6 max bytes per subject, 7 max queue depth (-1: no check), 8 admission hold (ms),
//       9 BullMQ job hash prefix, 10 input, 11.. job hash field/value pairs.
// Quota entries older than the max job age are dropped first: their records have expired, so
// an entry that a lost release left behind stops counting at the latest then.
// Returns {0, 0, 0} when stored, else {1 subject jobs | 2 subject bytes | 3 queue depth, usage, max}.
export const CREATE_SCRIPT = `
local id = ARGV[1]
local now = tonumber(ARGV[2])
local maxAgeSeconds = tonumber(ARGV[3])
local inputBytes = tonumber(ARGV[4])
local stale = redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', '(' .. (now - maxAgeSeconds * 1000))
for _, staleId in ipairs(stale) do
  redis.call('ZREM', KEYS[3], staleId)
  redis.call('HDEL', KEYS[4], staleId)
end
local jobs = redis.call('ZCARD', KEYS[3])
if jobs >= tonumber(ARGV[5]) then return {1, jobs, tonumber(ARGV[5])} end
local bytes = 0
for _, size in ipairs(redis.call('HVALS', KEYS[4])) do bytes = bytes + tonumber(size) end
if bytes + inputBytes > tonumber(ARGV[6]) then return {2, bytes, tonumber(ARGV[6])} end
local maxDepth = tonumber(ARGV[7])
if maxDepth >= 0 then
  redis.call('ZREMRANGEBYSCORE', KEYS[5], '-inf', '(' .. (now - tonumber(ARGV[8])))
  -- An admitted job that BullMQ contains already (its job hash exists) is counted by the queue
  -- keys, so its admitting entry is dropped rather than counted twice. The job hash is read by
  -- a key built here, which Redis Cluster would reject; the gateway uses one Redis server.
  local admitting = 0
  for _, admittedId in ipairs(redis.call('ZRANGE', KEYS[5], 0, -1)) do
    if redis.call('EXISTS', ARGV[9] .. admittedId) == 1 then
      redis.call('ZREM', KEYS[5], admittedId)
    else
      admitting = admitting + 1
    end
  end
  local depth = redis.call('LLEN', KEYS[6]) + redis.call('ZCARD', KEYS[7]) + admitting
  if depth >= maxDepth then return {3, depth, maxDepth} end
  redis.call('ZADD', KEYS[5], now, id)
  redis.call('PEXPIRE', KEYS[5], ARGV[8])
end
redis.call('ZADD', KEYS[3], now, id)
redis.call('HSET', KEYS[4], id, inputBytes)
redis.call('EXPIRE', KEYS[3], maxAgeSeconds)
redis.call('EXPIRE', KEYS[4], maxAgeSeconds)
redis.call('HSET', KEYS[1], unpack(ARGV, 11))
redis.call('EXPIRE', KEYS[1], maxAgeSeconds)
redis.call('SET', KEYS[2], ARGV[10], 'EX', maxAgeSeconds)
return {0, 0, 0}`;

// Deletes a job that never reached its queue and releases its quota and admission entries.
// KEYS: 1 job hash, 2 input, 3 quota jobs, 4 quota bytes, 5 admitting. ARGV: 1 job id.
export const DISCARD_SCRIPT = `
redis.call('DEL', KEYS[1], KEYS[2])
redis.call('ZREM', KEYS[3], ARGV[1])
redis.call('HDEL', KEYS[4], ARGV[1])
redis.call('ZREM', KEYS[5], ARGV[1])
return 1`;

const LIMITS: readonly AdmissionLimit[] = ['subject-jobs', 'subject-bytes', 'queue-depth'];

/** Turns the reply of `CREATE_SCRIPT` into an `Admission`. */
export function toAdmission(reply: unknown): Admission {
  if (!Array.isArray(reply) || reply.length !== 3)
    throw new TypeError('job create script returned no triple');
  const [code, current, max] = reply.map(Number) as [number, number, number];
  if (code === 0) return { admitted: true };
  const limit = LIMITS[code - 1];
  if (limit === undefined) throw new TypeError(`job create script returned code ${code}`);
  return { admitted: false, limit, current, max };
}
