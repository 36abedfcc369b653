import { RedisKeys, sha256Hex } from '@medai-flow/common';
import type { JobRepresentation } from '@medai-flow/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintToken } from '../../test-support/tokens.js';
import { IdempotencyStore, requestFingerprint } from '../src/jobs/idempotency.js';
import { nucleiPng, submitAccepted, submitJob } from './jobs-support.js';
import { bearer, createTestGateway, problemOf, type TestGateway } from './support.js';

const IDEMPOTENCY_TTL_SECONDS = 3_600;

describe('Idempotency-Key on job submissions', () => {
  let gateway: TestGateway;
  let keys: RedisKeys;
  let alice: string;
  let bob: string;

  beforeAll(async () => {
    gateway = await createTestGateway('jobs-idem', {
      env: { IDEMPOTENCY_TTL_SECONDS: String(IDEMPOTENCY_TTL_SECONDS), QUEUE_MAX_DEPTH: '3' },
    });
    keys = new RedisKeys(gateway.prefix);
    await gateway.publish('nuclei-unet');
    alice = await mintToken({ sub: 'alice', expiresInSeconds: 600 });
    bob = await mintToken({ sub: 'bob', expiresInSeconds: 600 });
  });
  afterAll(() => gateway.dispose());

  const queuedCount = () => gateway.services.jobs.queueOf('nuclei-unet').count();
  const withKey = (key: string, extra: Record<string, string> = {}) => ({
    headers: { 'idempotency-key': key, ...extra },
  });
  const cancel = (id: string) =>
    gateway.request(`/v1/jobs/${id}`, { method: 'DELETE', headers: bearer(alice) });

  describe('when the same key comes with the same body', () => {
    it('returns the first job with 200 and Idempotent-Replayed', async () => {
      const first = await submitAccepted(gateway, alice, 'nuclei-unet', nucleiPng, withKey('same-body-1'));
      const countAfterFirst = await queuedCount();

      const replay = await submitJob(gateway, alice, 'nuclei-unet', nucleiPng, withKey('same-body-1'));
      expect(replay.status).toBe(200);
      expect(replay.headers.get('idempotent-replayed')).toBe('true');
      expect(replay.headers.get('location')).toBe(`/v1/jobs/${first.id}`);
      const body = (await replay.json()) as JobRepresentation;
      expect(body.id).toBe(first.id);
      expect(body.status).toBe('queued');
      expect(await queuedCount()).toBe(countAfterFirst);

      const stored = await gateway.redis.get(keys.idempotency('alice', 'same-body-1'));
      expect(JSON.parse(stored ?? '{}').jobId).toBe(first.id);
      const ttl = await gateway.redis.ttl(keys.idempotency('alice', 'same-body-1'));
      expect(ttl).toBeGreaterThan(IDEMPOTENCY_TTL_SECONDS - 10);
      expect(ttl).toBeLessThanOrEqual(IDEMPOTENCY_TTL_SECONDS);
      await cancel(first.id);
    });

    it('returns the job as it is now', async () => {
      const first = await submitAccepted(gateway, alice, 'nuclei-unet', nucleiPng, withKey('as-it-is-now'));
      expect((await cancel(first.id)).status).toBe(200);

      const replay = await submitJob(gateway, alice, 'nuclei-unet', nucleiPng, withKey('as-it-is-now'));
      expect(replay.status).toBe(200);
      const body = (await replay.json()) as JobRepresentation;
      expect(body.id).toBe(first.id);
      expect(body.status).toBe('cancelled');
    });

    it('accepts a quoted Structured Field key as the bare key', async () => {
      const first = await submitAccepted(gateway, alice, 'nuclei-unet', nucleiPng, withKey('"quoted-key"'));
      const replay = await submitJob(gateway, alice, 'nuclei-unet', nucleiPng, withKey('quoted-key'));
      expect(replay.status).toBe(200);
      expect(((await replay.json()) as JobRepresentation).id).toBe(first.id);
      await cancel(first.id);
    });
  });

  describe('when the same key comes with another request', () => {
    it('rejects another body with 422', async () => {
      const first = await submitAccepted(gateway, alice, 'nuclei-unet', nucleiPng, withKey('other-body'));
      const changed = nucleiPng.slice();
      changed[changed.length - 1] = (changed[changed.length - 1] ?? 0) ^ 0xff;
      const response = await submitJob(gateway, alice, 'nuclei-unet', changed, withKey('other-body'));
      expect(response.status).toBe(422);
      const problem = await problemOf(response);
      expect(problem.type).toBe('https://medai-flow.dev/problems/idempotency-key-reused');
      expect(problem.field).toBe('Idempotency-Key');
      await cancel(first.id);
    });

    it('rejects another priority with 422', async () => {
      const first = await submitAccepted(gateway, alice, 'nuclei-unet', nucleiPng, withKey('other-priority'));
      const response = await submitJob(gateway, alice, 'nuclei-unet', nucleiPng, {
        ...withKey('other-priority'),
        query: '?priority=stat',
      });
      expect(response.status).toBe(422);
      await cancel(first.id);
    });

    it('keeps keys of other subjects apart', async () => {
      const ofAlice = await submitAccepted(gateway, alice, 'nuclei-unet', nucleiPng, withKey('shared-key'));
      const ofBob = await submitAccepted(gateway, bob, 'nuclei-unet', nucleiPng, withKey('shared-key'));
      expect(ofBob.id).not.toBe(ofAlice.id);
      await cancel(ofAlice.id);
      await gateway.request(`/v1/jobs/${ofBob.id}`, { method: 'DELETE', headers: bearer(bob) });
    });
  });

  describe('when the first request is still being accepted', () => {
    it('answers 409 until the claim is released', async () => {
      const store = new IdempotencyStore(
        gateway.redis,
        keys,
        gateway.services.redisCalls,
        IDEMPOTENCY_TTL_SECONDS,
      );
      const fingerprint = requestFingerprint({
        model: 'nuclei-unet',
        mediaType: 'image/png',
        priority: 'routine',
        deadlineSeconds: undefined,
        rawOutputs: false,
        bodySha256: sha256Hex(nucleiPng),
      });
      const claimed = await store.claim('alice', 'in-progress', fingerprint);
      if (claimed.kind !== 'claimed') throw new Error('the key was already taken');

      const during = await submitJob(gateway, alice, 'nuclei-unet', nucleiPng, withKey('in-progress'));
      expect(during.status).toBe(409);
      expect((await problemOf(during)).type).toBe('https://medai-flow.dev/problems/idempotency-in-progress');
      expect(during.headers.get('retry-after')).toBe('1');

      await claimed.claim.release();
      const after = await submitAccepted(gateway, alice, 'nuclei-unet', nucleiPng, withKey('in-progress'));
      await cancel(after.id);
    });
  });

  describe('when the first request fails', () => {
    it('releases the key so that a retry goes ahead', async () => {
      const fillers = [];
      for (let i = 0; i < 3; i += 1)
        fillers.push(await submitAccepted(gateway, alice, 'nuclei-unet', nucleiPng));
      const rejected = await submitJob(gateway, alice, 'nuclei-unet', nucleiPng, withKey('after-failure'));
      expect(rejected.status).toBe(503);
      expect((await problemOf(rejected)).type).toBe('https://medai-flow.dev/problems/queue-full');
      expect(await gateway.redis.exists(keys.idempotency('alice', 'after-failure'))).toBe(0);

      for (const filler of fillers) await cancel(filler.id);
      const retried = await submitJob(gateway, alice, 'nuclei-unet', nucleiPng, withKey('after-failure'));
      expect(retried.status).toBe(202);
      expect(retried.headers.get('idempotent-replayed')).toBeNull();
      await cancel(((await retried.json()) as JobRepresentation).id);
    });
  });

  describe('when the key is invalid', () => {
    it.each([
      ['empty', ''],
      ['too long', 'k'.repeat(256)],
      ['with a space', 'two words'],
      ['non-ASCII', 'clé'],
    ])('rejects a key that is %s with 400', async (_case, key) => {
      const response = await submitJob(gateway, alice, 'nuclei-unet', nucleiPng, withKey(key));
      expect(response.status).toBe(400);
      const problem = await problemOf(response);
      expect(problem.field).toBe('Idempotency-Key');
    });

    it('accepts a key of 255 characters', async () => {
      const job = await submitAccepted(gateway, alice, 'nuclei-unet', nucleiPng, withKey('k'.repeat(255)));
      await cancel(job.id);
    });
  });
});
