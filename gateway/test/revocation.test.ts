import { sha256Hex, verifyAuditChain } from '@medai-flow/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintToken } from '../../test-support/tokens.js';
import { bearer, createTestGateway, ManualClock, problemOf, type TestGateway } from './support.js';

describe('token revocation', () => {
  let first: TestGateway;
  let second: TestGateway;
  beforeAll(async () => {
    first = await createTestGateway('revocation');
    second = await createTestGateway('revocation', { prefix: first.prefix });
  });
  afterAll(async () => {
    await second.dispose();
    await first.dispose();
  });

  const revoke = (gateway: TestGateway, token: string, body?: unknown) =>
    gateway.request('/v1/auth/revoke', {
      method: 'POST',
      headers: { ...bearer(token), 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  const list = (gateway: TestGateway, token: string) =>
    gateway.request('/v1/models', { headers: bearer(token) });

  it('revokes the presented token on every replica', async () => {
    const token = await mintToken({ sub: 'self-revoker' });
    expect((await list(second, token)).status).toBe(200);
    expect((await revoke(first, token)).status).toBe(204);

    const response = await list(second, token);
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toContain('error="invalid_token"');
    expect((await problemOf(response)).detail).toBe('the token has been revoked');
  });

  it('rejects a revoked token among concurrent valid ones', async () => {
    const revoked = await mintToken({ sub: 'crowd-revoked' });
    const valid = await Promise.all([1, 2, 3].map((index) => mintToken({ sub: `crowd-${index}` })));
    expect((await revoke(first, revoked)).status).toBe(204);
    const tokens = [valid[0], revoked, valid[1], valid[2]] as string[];
    const statuses = (await Promise.all(tokens.map((token) => list(second, token)))).map((r) => r.status);
    expect(statuses).toEqual([200, 401, 200, 200]);
  });

  it('revokes a token without jti by its SHA-256', async () => {
    const token = await mintToken({ sub: 'no-jti', jti: null });
    expect((await revoke(first, token, {})).status).toBe(204);
    expect((await list(second, token)).status).toBe(401);
  });

  it('rejects other spellings of a token', async () => {
    // jose decodes base64url leniently: padding, or spare bits in the last character of the
    // signature, would verify and get another SHA-256, past the revocation of the original.
    const token = await mintToken({ sub: 'respelled', jti: null });
    const last = token.at(-1) as string;
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const spareBits = alphabet[alphabet.indexOf(last) ^ 1] as string;
    for (const variant of [`${token}=`, `${token.slice(0, -1)}${spareBits}`]) {
      const response = await list(second, variant);
      expect(response.status, variant.slice(-8)).toBe(401);
      expect((await problemOf(response)).detail).toContain('canonical base64url');
    }
    expect((await list(second, token)).status).toBe(200);
  });

  it('keeps the entry only until the token expires', async () => {
    const token = await mintToken({ sub: 'ttl', jti: 'ttl-jti', expiresInSeconds: 120 });
    await revoke(first, token);
    const ttl = await first.redis.ttl(first.services.keys.revokedToken('ttl-jti'));
    expect(ttl).toBeGreaterThan(100);
    expect(ttl).toBeLessThanOrEqual(120 + 30);
  });

  it('lets an admin revoke a jti', async () => {
    const victim = await mintToken({ sub: 'victim', jti: 'victim-jti' });
    const admin = await mintToken({ sub: 'admin', scope: 'admin' });
    expect((await revoke(first, admin, { jti: 'victim-jti' })).status).toBe(204);
    expect((await list(second, victim)).status).toBe(401);
    expect((await list(second, admin)).status).toBe(200);
  });

  it('lets an admin revoke every token of a subject', async () => {
    const older = await mintToken({ sub: 'leaver' });
    const admin = await mintToken({ sub: 'admin', scope: 'admin' });
    expect((await revoke(first, admin, { sub: 'leaver' })).status).toBe(204);
    expect((await list(second, older)).status).toBe(401);
    expect((await list(second, await mintToken({ sub: 'other' }))).status).toBe(200);
  });

  it('appends revocations to the audit trail', async () => {
    const admin = await mintToken({ sub: 'auditor', scope: 'admin' });
    expect((await revoke(first, admin, { sub: 'audited-subject' })).status).toBe(204);
    const events = (await first.redis.xrange(first.services.keys.audit, '-', '+')).map(
      ([, fields]) => JSON.parse(fields[1] ?? '{}') as Record<string, unknown>,
    );
    const event = events.find((candidate) => candidate.actor === 'auditor');
    expect(event?.action).toBe('subject.revoked');
    expect(event?.targetSha256).toBe(sha256Hex('audited-subject'));
    expect(JSON.stringify(events)).not.toContain('audited-subject');
    expect((await verifyAuditChain(first.redis, first.services.keys)).ok).toBe(true);
  });

  it('admits a subject token issued after the revocation', async () => {
    // A revocation also covers tokens issued up to the clock tolerance (30 s) after it. A replica
    // whose clock is 35 s behind revokes, so tokens minted now were issued after that.
    const behind = await createTestGateway('revocation', {
      prefix: first.prefix,
      clock: new ManualClock(Date.now() - 35_000),
    });
    const admin = await mintToken({ sub: 'admin', scope: 'admin' });
    await revoke(behind, admin, { sub: 'returner' });
    await behind.dispose();
    expect((await list(second, await mintToken({ sub: 'returner' }))).status).toBe(200);
  });

  it('forbids revoking others without admin', async () => {
    const token = await mintToken({ sub: 'plain' });
    const response = await revoke(first, token, { sub: 'someone-else' });
    expect(response.status).toBe(403);
    expect(response.headers.get('www-authenticate')).toContain('scope="admin"');
  });

  it('rejects unknown fields and malformed bodies', async () => {
    const token = await mintToken({ sub: 'plain' });
    expect((await revoke(first, token, { everything: true })).status).toBe(422);
    const malformed = await first.request('/v1/auth/revoke', {
      method: 'POST',
      headers: { ...bearer(token), 'content-type': 'application/json' },
      body: '{"jti":',
    });
    expect(malformed.status).toBe(400);
  });
});
