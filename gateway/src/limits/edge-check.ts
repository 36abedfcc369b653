import { createHash } from 'node:crypto';
import type { Redis, RedisKeys } from '@medai-flow/common';
import type { Principal } from '../auth/principal.js';
import type { RedisCalls } from '../redis/redis-calls.js';

/**
 * Revocation and rate limit of the requests of one event-loop turn, in one script call.
 *
 * KEYS contains the keys of each check in turn: the rate-limit state (the theoretical arrival
 * time, epoch ms) and, on authenticated requests, the revoked-token entry and the subject's
 * revocation time. ARGV[1] is a JSON array with one entry per check: [key count (1 or 3),
 * now (ms), emission interval (ms), burst (requests), token `iat` (s, or -1), peek]. Peek 1
 * checks whether a request would be admitted without counting it. Arguments and
 * replies travel as one JSON string each, because ioredis encodes and decodes every element
 * of a command or reply on its own, which cost more than the checks themselves.
 *
 * The limiter is GCRA: a request is admitted while the theoretical arrival time stays within
 * `burst` intervals of now, so at most `burst` requests pass at once and the sustained rate is
 * one per interval. There is no window edge, so no double burst around one. The state key
 * expires when the bucket is full again. Checks run in order, so two requests of one subject
 * in one call are counted one after the other. Returns a JSON array of four numbers per check,
 * status, remaining, resetMs, retryAfterMs, with status 0 allowed, 1 limited, 2 token revoked,
 * 3 subject revoked.
 */
const EDGE_CHECK_SCRIPT = `
local function check(key, keyCount, now, interval, burst, issuedAt, peek)
  local stored
  if keyCount == 3 then
    local values = redis.call('MGET', KEYS[key], KEYS[key + 1], KEYS[key + 2])
    if values[2] then return 2, 0, 0, 0 end
    if values[3] and (issuedAt < 0 or issuedAt <= tonumber(values[3])) then return 3, 0, 0, 0 end
    stored = values[1]
  else
    stored = redis.call('GET', KEYS[key])
  end
  -- The stored time is rounded to 1 µs, and 60000 / limit is rarely a whole number of ms:
  -- a slack of 1 µs per request of burst keeps rounding from denying the last request.
  local tolerance = interval * burst
  local slack = 0.001 * burst
  local tat = tonumber(stored or now)
  if tat < now then tat = now end
  local nextTat = tat + interval
  if nextTat - now > tolerance + slack then
    return 1, 0, math.ceil(tat - now), math.ceil(nextTat - now - tolerance)
  end
  if peek == 1 then return 0, 0, 0, 0 end
  redis.call('SET', KEYS[key], string.format('%.3f', nextTat), 'PX', math.ceil(nextTat - now))
  return 0, math.floor((tolerance - (nextTat - now) + slack) / interval), math.ceil(nextTat - now), 0
end

local replies = {}
local key = 1
for index, entry in ipairs(cjson.decode(ARGV[1])) do
  local status, remaining, resetMs, retryAfterMs =
    check(key, entry[1], entry[2], entry[3], entry[4], entry[5], entry[6])
  replies[index * 4 - 3] = status
  replies[index * 4 - 2] = remaining
  replies[index * 4 - 1] = resetMs
  replies[index * 4] = retryAfterMs
  key = key + entry[1]
end
return cjson.encode(replies)
`;
const EDGE_CHECK_SHA = createHash('sha1').update(EDGE_CHECK_SCRIPT).digest('hex');

/** A rate limit: `limit` requests per `windowSeconds`, all of which may come at once. */
export interface LimitPolicy {
  /** Policy name in the `RateLimit-Policy` header. */
  name: string;
  limit: number;
  windowSeconds: number;
}

export type EdgeVerdict =
  | { kind: 'allowed'; policy: LimitPolicy; remaining: number; resetMs: number }
  | { kind: 'limited'; policy: LimitPolicy; resetMs: number; retryAfterMs: number }
  | { kind: 'revoked'; scope: 'token' | 'subject' };

/** Who a request is counted against: a verified principal, or a client address. */
export type EdgeSubject = { principal: Principal } | { address: string };

/** Most checks sent in one script call, so that one call never keeps Redis busy for long. */
const MAX_CHECKS_PER_CALL = 256;

interface QueuedCheck {
  keys: string[];
  /** [key count, now (ms), emission interval (ms), burst, token `iat` (s, or -1), peek (1 or 0)] */
  args: number[];
  policy: LimitPolicy;
  resolve(verdict: EdgeVerdict): void;
  reject(error: unknown): void;
}

/**
 * Checks revocation and the rate limit of each request in Redis. The checks that requests
 * make in one turn of the event loop are queued and sent as one script call once the loop has
 * handled its pending I/O (setImmediate). At low load a check is sent in the turn it arrives.
 * Under load, the requests of many connections arrive in one turn, so they share one command,
 * one write and one reply. The per-command cost in ioredis and Redis is then paid once per
 * turn. Each check still waits for its own reply, so no response is sent before Redis has
 * checked its request.
 */
export class EdgeCheck {
  /** Keys of each cached principal, so that their SHA-256 digests are computed once per token. */
  private readonly principalKeys = new WeakMap<Principal, Map<string, string[]>>();
  /** Checks waiting for the next script call. */
  private queued: QueuedCheck[] = [];

  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
    private readonly redisCalls: RedisCalls,
  ) {}

  /**
   * Checks revocation and the rate limit of one request. With `mode` 'peek' the request is
   * not counted, and an admitted verdict reports no remaining requests. Rejects with
   * `redis_unavailable` (503) when Redis cannot be reached or does not reply within the
   * command timeout.
   */
  check(
    subject: EdgeSubject,
    policy: LimitPolicy,
    nowMs: number,
    mode: 'count' | 'peek' = 'count',
  ): Promise<EdgeVerdict> {
    const intervalMs = (policy.windowSeconds * 1000) / policy.limit;
    let keys: string[];
    let issuedAt = -1;
    if ('principal' in subject) {
      keys = this.keysOf(subject.principal, policy);
      issuedAt = subject.principal.issuedAt ?? -1;
    } else {
      keys = [this.keys.rateLimit(policy.name, `addr:${subject.address}`)];
    }
    const args = [keys.length, nowMs, intervalMs, policy.limit, issuedAt, mode === 'peek' ? 1 : 0];
    return new Promise((resolve, reject) => {
      if (this.queued.length === 0) setImmediate(() => this.flush());
      this.queued.push({ keys, args, policy, resolve, reject });
    });
  }

  private keysOf(principal: Principal, policy: LimitPolicy): string[] {
    let byPolicy = this.principalKeys.get(principal);
    if (!byPolicy) {
      byPolicy = new Map();
      this.principalKeys.set(principal, byPolicy);
    }
    let keys = byPolicy.get(policy.name);
    if (!keys) {
      keys = [
        this.keys.rateLimit(policy.name, `sub:${principal.subject}`),
        this.keys.revokedToken(principal.tokenId),
        this.keys.revokedSubject(principal.subject),
      ];
      byPolicy.set(policy.name, keys);
    }
    return keys;
  }

  /** Sends the queued checks, at most `MAX_CHECKS_PER_CALL` per script call. */
  private flush(): void {
    const queued = this.queued;
    this.queued = [];
    for (let start = 0; start < queued.length; start += MAX_CHECKS_PER_CALL) {
      void this.send(queued.slice(start, start + MAX_CHECKS_PER_CALL));
    }
  }

  private async send(batch: QueuedCheck[]): Promise<void> {
    const keys: string[] = [];
    for (const check of batch) keys.push(...check.keys);
    const args = JSON.stringify(batch.map((check) => check.args));
    let replies: number[];
    try {
      // One timed operation per script call: `redis_operation_duration_seconds` and
      // `redis_up` describe the call to Redis, not the requests that share it.
      const reply = await this.redisCalls.runCommands('edge_check', () => this.evaluate(keys, args));
      replies = JSON.parse(String(reply)) as number[];
    } catch (error) {
      for (const check of batch) check.reject(error);
      return;
    }
    batch.forEach((check, index) => {
      try {
        check.resolve(toVerdict(replies, index * 4, check.policy));
      } catch (error) {
        check.reject(error);
      }
    });
  }

  private async evaluate(keys: string[], args: string): Promise<unknown> {
    try {
      return await this.redis.evalsha(EDGE_CHECK_SHA, keys.length, ...keys, args);
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
      // Redis restarted or flushed its scripts: send the script itself, which loads it again.
      return this.redis.eval(EDGE_CHECK_SCRIPT, keys.length, ...keys, args);
    }
  }
}

/** Builds the verdict of the check whose four reply numbers start at `offset`. */
function toVerdict(replies: number[], offset: number, policy: LimitPolicy): EdgeVerdict {
  const status = replies[offset];
  const remaining = replies[offset + 1] ?? 0;
  const resetMs = replies[offset + 2] ?? 0;
  const retryAfterMs = replies[offset + 3] ?? 0;
  switch (status) {
    case 0:
      return { kind: 'allowed', policy, remaining, resetMs };
    case 1:
      return { kind: 'limited', policy, resetMs, retryAfterMs };
    case 2:
      return { kind: 'revoked', scope: 'token' };
    case 3:
      return { kind: 'revoked', scope: 'subject' };
    default:
      throw new TypeError(`edge check script returned unknown status ${status}`);
  }
}
