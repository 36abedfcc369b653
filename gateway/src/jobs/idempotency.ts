import { randomUUID } from 'node:crypto';
import { type Redis, type RedisKeys, sha256Hex } from '@medai-flow/common';
import { GatewayError } from '../errors/gateway-error.js';
import type { RedisCalls } from '../redis/redis-calls.js';

/**
 * Lifetime of a claim while its request is being accepted, in seconds. Acceptance starts after
 * the body has been read and takes a few bounded Redis calls. A claim older than this belongs
 * to a gateway that died, so the key becomes free again.
 */
const CLAIM_TTL_SECONDS = 60;

/** 1 to 255 visible ASCII characters. */
const KEY_PATTERN = /^[\x21-\x7e]{1,255}$/;

/** Entry stored under an Idempotency-Key: the request fingerprint, and the job once accepted. */
interface StoredEntry {
  fingerprint: string;
  /** Set once the job is accepted. */
  jobId?: string;
  /** Random value of a claim still in progress, so that only its owner completes or releases it. */
  claim?: string;
}

/** Result of claiming a key: this request goes ahead, or it repeats an accepted one. */
export type ClaimResult = { kind: 'claimed'; claim: IdempotencyClaim } | { kind: 'replay'; jobId: string };

/** Parts of a submission that decide which job it creates; two requests with equal parts are the same request. */
export interface RequestFingerprintParts {
  model: string;
  mediaType: string;
  priority: string;
  deadlineSeconds: number | undefined;
  rawOutputs: boolean;
  bodySha256: string;
}

// Replaces the claim with the accepted entry, only while the claim is still this request's.
const COMPLETE = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[3])
return 1`;

// Deletes the claim, only while it is still this request's.
const RELEASE = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
return redis.call('DEL', KEYS[1])`;

/**
 * Reads the `Idempotency-Key` header. The IETF draft (draft-ietf-httpapi-idempotency-key-header)
 * makes the value a Structured Field string, so a quoted value is unquoted; a bare value is
 * taken as it is. Returns undefined when the header is absent.
 */
export function parseIdempotencyKey(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  let key = header.trim();
  if (key.length >= 2 && key.startsWith('"') && key.endsWith('"')) {
    key = key.slice(1, -1).replace(/\\(["\\])/g, '$1');
  }
  if (!KEY_PATTERN.test(key)) {
    throw new GatewayError(
      'bad_request',
      'the Idempotency-Key header must be 1 to 255 visible ASCII characters',
      { extensions: { field: 'Idempotency-Key' } },
    );
  }
  return key;
}

/** SHA-256 over everything that decides the job a submission creates. */
export function requestFingerprint(parts: RequestFingerprintParts): string {
  return sha256Hex(
    JSON.stringify([
      parts.model,
      parts.mediaType,
      parts.priority,
      parts.deadlineSeconds ?? null,
      parts.rawOutputs,
      parts.bodySha256,
    ]),
  );
}

/** A key claimed by one request while its job is being accepted. Call `complete` or `release` once. */
export class IdempotencyClaim {
  constructor(
    private readonly store: IdempotencyStore,
    readonly redisKey: string,
    readonly fingerprint: string,
    readonly value: string,
  ) {}

  /** Stores the accepted job under the key for the retention window; false when the claim had expired. */
  complete(jobId: string): Promise<boolean> {
    return this.store.complete(this, jobId);
  }

  /** Frees the key after a failed request, so that a retry with the same key can proceed. */
  release(): Promise<void> {
    return this.store.release(this);
  }
}

/**
 * Idempotency-Key records per subject, in Redis. A key is claimed with one atomic
 * `SET NX GET`, so of two concurrent requests exactly one goes ahead; the other sees the
 * claim and answers 409, or 422 when its body differs.
 */
export class IdempotencyStore {
  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
    private readonly redisCalls: RedisCalls,
    private readonly ttlSeconds: number,
  ) {}

  async claim(subject: string, key: string, fingerprint: string): Promise<ClaimResult> {
    const redisKey = this.keys.idempotency(subject, key);
    const value = JSON.stringify({ fingerprint, claim: randomUUID() } satisfies StoredEntry);
    // SET ... NX GET (Redis 7.0 or later) sets the key only when it is absent and returns the
    // value it found, so the check and the claim are one atomic step.
    const existing = (await this.redisCalls.run('idempotency', () =>
      this.redis.call('SET', redisKey, value, 'NX', 'GET', 'EX', String(CLAIM_TTL_SECONDS)),
    )) as string | null;
    if (existing === null)
      return { kind: 'claimed', claim: new IdempotencyClaim(this, redisKey, fingerprint, value) };

    const entry = JSON.parse(existing) as StoredEntry;
    if (entry.fingerprint !== fingerprint) {
      throw new GatewayError(
        'idempotency_key_reused',
        'this Idempotency-Key was used with another request body or options; use a new key',
        { extensions: { field: 'Idempotency-Key' } },
      );
    }
    if (entry.jobId === undefined) {
      throw new GatewayError(
        'idempotency_in_progress',
        'a request with this Idempotency-Key is still being accepted; retry after it completes',
        { retryAfterSeconds: 1, extensions: { field: 'Idempotency-Key' } },
      );
    }
    return { kind: 'replay', jobId: entry.jobId };
  }

  async complete(claim: IdempotencyClaim, jobId: string): Promise<boolean> {
    const accepted = JSON.stringify({ fingerprint: claim.fingerprint, jobId } satisfies StoredEntry);
    const stored = await this.redisCalls.run('idempotency', () =>
      this.redis.eval(COMPLETE, 1, claim.redisKey, claim.value, accepted, String(this.ttlSeconds)),
    );
    return stored === 1;
  }

  async release(claim: IdempotencyClaim): Promise<void> {
    await this.redisCalls.run('idempotency', () => this.redis.eval(RELEASE, 1, claim.redisKey, claim.value));
  }
}
