import { createHash } from 'node:crypto';
import type { Redis, RedisKeys } from '@medai-flow/common';
import type { Principal } from '../auth/principal.js';

/**
 * Revocation and rate limit of one request in one round trip.
 *
 * KEYS[1] rate-limit state (the theoretical arrival time, epoch ms); on authenticated
 * requests also KEYS[2] the revoked-token entry and KEYS[3] the subject's revocation time.
 * ARGV: now (ms), emission interval (ms), burst (requests), token `iat` (s, or -1).
 *
 * The limiter is GCRA: a request is admitted while the theoretical arrival time stays within
 * `burst` intervals of now, so at most `burst` requests pass at once and the sustained rate is
 * one per interval. There is no window edge, so no double burst around one. The state key
 * expires when the bucket is full again. Returns {status, remaining, resetMs, retryAfterMs}
 * with status 0 allowed, 1 limited, 2 token revoked, 3 subject revoked.
 */
const EDGE_CHECK_SCRIPT = `
if #KEYS == 3 then
  if redis.call('EXISTS', KEYS[2]) == 1 then return {2, 0, 0, 0} end
  local revokedBefore = redis.call('GET', KEYS[3])
  if revokedBefore then
    local issuedAt = tonumber(ARGV[4])
    if issuedAt < 0 or issuedAt <= tonumber(revokedBefore) then return {3, 0, 0, 0} end
  end
end
local now = tonumber(ARGV[1])
local interval = tonumber(ARGV[2])
local burst = tonumber(ARGV[3])
local tolerance = interval * burst
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
local nextTat = tat + interval
if nextTat - now > tolerance then
  return {1, 0, math.ceil(tat - now), math.ceil(nextTat - now - tolerance)}
end
redis.call('SET', KEYS[1], string.format('%.3f', nextTat), 'PX', math.ceil(nextTat - now))
return {0, math.floor((tolerance - (nextTat - now)) / interval), math.ceil(nextTat - now), 0}
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

export class EdgeCheck {
  /** Keys of each cached principal, so that their SHA-256 digests are computed once per token. */
  private readonly principalKeys = new WeakMap<Principal, Map<string, string[]>>();

  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
  ) {}

  async check(subject: EdgeSubject, policy: LimitPolicy, nowMs: number): Promise<EdgeVerdict> {
    const intervalMs = (policy.windowSeconds * 1000) / policy.limit;
    const args = [String(nowMs), intervalMs.toFixed(6), String(policy.limit)];
    let keys: string[];
    if ('principal' in subject) {
      const { principal } = subject;
      keys = this.keysOf(principal, policy);
      args.push(String(principal.issuedAt ?? -1));
    } else {
      keys = [this.keys.rateLimit(policy.name, `addr:${subject.address}`)];
      args.push('-1');
    }
    const reply = (await this.evaluate(keys, args)) as number[];
    return toVerdict(reply, policy);
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

  private async evaluate(keys: string[], args: string[]): Promise<unknown> {
    try {
      return await this.redis.evalsha(EDGE_CHECK_SHA, keys.length, ...keys, ...args);
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
      return this.redis.eval(EDGE_CHECK_SCRIPT, keys.length, ...keys, ...args);
    }
  }
}

function toVerdict(reply: number[], policy: LimitPolicy): EdgeVerdict {
  const [status = 0, remaining = 0, resetMs = 0, retryAfterMs = 0] = reply;
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
