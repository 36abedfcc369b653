import { AuditLog, GENESIS_HASH, RedisKeys, verifyAuditChain } from '@medai-flow/common';
import { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { deleteKeys, testRedisUrl, uniquePrefix } from '../../../test-support/redis.js';

describe('AuditLog', () => {
  let redis: Redis;
  let prefix: string;
  let keys: RedisKeys;
  let audit: AuditLog;

  beforeEach(() => {
    redis = new Redis(testRedisUrl);
    prefix = uniquePrefix('audit');
    keys = new RedisKeys(prefix);
    audit = new AuditLog(redis, keys);
  });

  afterEach(async () => {
    redis.disconnect();
    await deleteKeys(testRedisUrl, prefix);
  });

  async function appendThree(): Promise<void> {
    await audit.append({ action: 'job.submitted', actor: 'alice', jobId: 'j1', inputSha256: 'a'.repeat(64) });
    await audit.append({
      action: 'job.succeeded',
      actor: 'worker:w1',
      jobId: 'j1',
      resultSha256: 'b'.repeat(64),
    });
    await audit.append({ action: 'token.revoked', actor: 'alice', targetSha256: 'c'.repeat(64) });
  }

  it('chains events from the genesis hash', async () => {
    const first = await audit.append({ action: 'job.submitted', actor: 'alice', jobId: 'j1' });
    const second = await audit.append({ action: 'job.failed', actor: 'worker:w1', jobId: 'j1' });
    expect(first.previousHash).toBe(GENESIS_HASH);
    expect(second.previousHash).toBe(first.hash);
    expect(await verifyAuditChain(redis, keys)).toEqual({ ok: true, events: 2, head: second.hash });
  });

  it('stays linear under concurrent appends', async () => {
    // Three writers stand for three processes: each has its own connection and its own queue.
    const connections = [new Redis(testRedisUrl), new Redis(testRedisUrl)];
    const writers = [audit, ...connections.map((connection) => new AuditLog(connection, keys))];
    await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        writers[i % 3]?.append({ action: 'job.submitted', actor: `s${i}`, jobId: `j${i}` }),
      ),
    );
    for (const connection of connections) connection.disconnect();
    const result = await verifyAuditChain(redis, keys, 7);
    expect(result).toMatchObject({ ok: true, events: 30 });
  });

  it('detects an edited event', async () => {
    await appendThree();
    const entries = await redis.xrange(keys.audit, '-', '+');
    const [id, fields] = entries[1] ?? ['', []];
    const edited = (fields[1] ?? '').replace('worker:w1', 'worker:w2');
    // A stream entry cannot be changed in place: delete it and add the edited copy at its id.
    await redis.xdel(keys.audit, id);
    await redis.xadd(keys.audit, '*', 'event', edited);
    const result = await verifyAuditChain(redis, keys);
    expect(result.ok).toBe(false);
  });

  it('detects a removed event', async () => {
    await appendThree();
    const entries = await redis.xrange(keys.audit, '-', '+');
    await redis.xdel(keys.audit, entries[1]?.[0] ?? '');
    const result = await verifyAuditChain(redis, keys);
    expect(result).toMatchObject({ ok: false, events: 1 });
    expect(result.ok === false && result.reason).toContain('removed');
  });

  it('detects a removed last event', async () => {
    await appendThree();
    const entries = await redis.xrange(keys.audit, '-', '+');
    await redis.xdel(keys.audit, entries[2]?.[0] ?? '');
    const result = await verifyAuditChain(redis, keys);
    expect(result).toMatchObject({ ok: false, events: 2, entryId: '(end)' });
  });

  it('stores no field beyond the event', async () => {
    await appendThree();
    const entries = await redis.xrange(keys.audit, '-', '+');
    for (const [, fields] of entries) expect(fields[0]).toBe('event');
  });
});
