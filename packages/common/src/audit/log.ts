import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { RedisKeys } from '../redis/keys.js';

/** Kind of audited action; job endings use the job's terminal status. */
export type AuditAction =
  | 'job.submitted'
  | 'job.succeeded'
  | 'job.failed'
  | 'job.cancelled'
  | 'job.expired'
  | 'token.revoked'
  | 'subject.revoked';

/**
 * One audit event. It names who, what and when, and the SHA-256 of the input and result,
 * never the input, the result, a token or a DICOM tag.
 */
export interface AuditEvent {
  action: AuditAction;
  /** Subject of the token that acted, or `worker:<id>` for a worker. */
  actor: string;
  requestId?: string;
  jobId?: string;
  model?: string;
  modelVersion?: string;
  modelSha256?: string;
  inputSha256?: string;
  resultSha256?: string;
  /** SHA-256 of the revoked token id or subject. */
  targetSha256?: string;
}

/** An event as stored: with server time and its place in the hash chain. */
export interface ChainedAuditEvent extends AuditEvent {
  /** Server time, ISO 8601. */
  at: string;
  /** Hash of the event before (64 zeros for the first). */
  previousHash: string;
  /** SHA-256 of `previousHash`, a newline and the event's JSON without `hash`. */
  hash: string;
}

export const GENESIS_HASH = '0'.repeat(64);

/** Attempts of one append when writers in other processes keep moving the head of the chain. */
const MAX_APPEND_ATTEMPTS = 50;
/** Maximum random pause before retrying an append that lost a race, in milliseconds. */
const MAX_RETRY_PAUSE_MS = 5;

// Appends an event only if the chain head is still the hash the caller built on; otherwise
// returns the current head, so that the caller rebuilds the event on it (compare-and-set).
const APPEND = `
local head = redis.call('GET', KEYS[2]) or ARGV[3]
if head ~= ARGV[1] then return {0, head} end
redis.call('XADD', KEYS[1], '*', 'event', ARGV[2])
redis.call('SET', KEYS[2], ARGV[4])
return {1, ARGV[4]}`;

/** Computes the hash of an event built on `previousHash`. */
export function hashAuditEvent(event: Omit<ChainedAuditEvent, 'hash'>): string {
  return createHash('sha256')
    .update(`${event.previousHash}\n${JSON.stringify(event)}`)
    .digest('hex');
}

/**
 * The append-only, hash-chained audit trail in a Redis stream. Every writer (gateways and
 * workers) appends through one compare-and-set script, so the chain stays linear; removing or
 * editing an event breaks it, which `verifyAuditChain` detects.
 */
export class AuditLog {
  /** The append in flight; appends of one process run one after another, so they never race each other. */
  private tail: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
    private readonly now: () => number = Date.now,
  ) {}

  /** Appends `event` to the chain; resolves with the event as stored. */
  append(event: AuditEvent): Promise<ChainedAuditEvent> {
    const appended = this.tail.then(() => this.appendNow(event));
    this.tail = appended.catch(() => undefined);
    return appended;
  }

  /**
   * Appends `event`, and logs an append that fails (Redis unavailable) instead of failing the
   * action it records, which has already happened.
   */
  async record(event: AuditEvent, logger: Logger): Promise<void> {
    try {
      await this.append(event);
    } catch (error) {
      const { action, jobId, requestId } = event;
      logger.error({ err: error, action, jobId, requestId }, 'audit append failed');
    }
  }

  private async appendNow(event: AuditEvent): Promise<ChainedAuditEvent> {
    let head = (await this.redis.get(this.keys.auditHead)) ?? GENESIS_HASH;
    for (let attempt = 0; attempt < MAX_APPEND_ATTEMPTS; attempt++) {
      const unhashed = { ...event, at: new Date(this.now()).toISOString(), previousHash: head };
      const chained: ChainedAuditEvent = { ...unhashed, hash: hashAuditEvent(unhashed) };
      const [appended, current] = (await this.redis.eval(
        APPEND,
        2,
        this.keys.audit,
        this.keys.auditHead,
        head,
        JSON.stringify(chained),
        GENESIS_HASH,
        chained.hash,
      )) as [number, string];
      if (appended === 1) return chained;
      head = current;
      await new Promise((resolvePause) => setTimeout(resolvePause, Math.random() * MAX_RETRY_PAUSE_MS));
    }
    throw new Error(`audit append failed: the chain head moved ${MAX_APPEND_ATTEMPTS} times`);
  }
}

/** Outcome of a chain verification. */
export type AuditVerification =
  | { ok: true; events: number; head: string }
  | { ok: false; events: number; entryId: string; reason: string };

/**
 * Reads the whole trail in order and checks every link and hash, and that the last hash is
 * the stored head (so a removed last event is found too).
 */
export async function verifyAuditChain(
  redis: Redis,
  keys: RedisKeys,
  batchSize = 1000,
): Promise<AuditVerification> {
  let previousHash = GENESIS_HASH;
  let events = 0;
  let start = '-';
  for (;;) {
    const entries = await redis.xrange(keys.audit, start, '+', 'COUNT', batchSize);
    for (const [entryId, fields] of entries) {
      const json = fields[fields.indexOf('event') + 1] ?? '';
      const failure = checkEntry(json, previousHash);
      if (failure) return { ok: false, events, entryId, reason: failure };
      previousHash = (JSON.parse(json) as ChainedAuditEvent).hash;
      events++;
    }
    if (entries.length < batchSize) break;
    start = `(${entries[entries.length - 1]?.[0]}`;
  }
  const head = (await redis.get(keys.auditHead)) ?? GENESIS_HASH;
  if (head !== previousHash) {
    return {
      ok: false,
      events,
      entryId: '(end)',
      reason: 'the last event is not the stored head: events were removed',
    };
  }
  return { ok: true, events, head };
}

function checkEntry(json: string, previousHash: string): string | undefined {
  let event: ChainedAuditEvent;
  try {
    event = JSON.parse(json) as ChainedAuditEvent;
  } catch {
    return 'the event is not valid JSON';
  }
  if (event.previousHash !== previousHash)
    return 'the event does not link to the one before: events were removed or reordered';
  const { hash, ...unhashed } = event;
  if (hashAuditEvent(unhashed) !== hash)
    return 'the event hash does not match its content: the event was edited';
  return undefined;
}
