import { createHmac } from 'node:crypto';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintToken, testJwtSecret } from '../../test-support/tokens.js';
import { bearer, createTestGateway, problemOf, type TestGateway } from './support.js';

/** Mints an HS256 token for `sub` issued `issuedInSeconds` from now, valid for 10 minutes. */
async function tokenIssuedIn(issuedInSeconds: number, sub = 'carol'): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ scope: 'jobs:read jobs:write' })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(sub)
    .setIssuedAt(now + issuedInSeconds)
    .setExpirationTime(now + 600)
    .sign(new TextEncoder().encode(testJwtSecret));
}

describe('when the token iat is in the future', () => {
  let gateway: TestGateway;
  beforeAll(async () => {
    gateway = await createTestGateway('token-iat', { env: { AUTH_CLOCK_TOLERANCE_SECONDS: '30' } });
  });
  afterAll(() => gateway.dispose());

  const models = (token: string) => gateway.request('/v1/models', { headers: bearer(token) });
  const revokeSubject = async (sub: string) =>
    gateway.request('/v1/auth/revoke', {
      method: 'POST',
      headers: {
        ...bearer(await mintToken({ sub: 'root', roles: ['admin'] })),
        'content-type': 'application/json',
      },
      body: JSON.stringify({ sub }),
    });

  it('returns 401 with invalid_token', async () => {
    const response = await models(await tokenIssuedIn(3_000));

    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toContain('error="invalid_token"');
    expect((await problemOf(response)).detail).toContain('"iat"');
  });

  it('rejects an iat that is not finite', async () => {
    // JSON.parse reads -1e999 as -Infinity, which no JWT library writes, so the token is built by hand.
    const now = Math.floor(Date.now() / 1000);
    const part = (text: string) => Buffer.from(text).toString('base64url');
    const input = `${part('{"alg":"HS256"}')}.${part(`{"sub":"frank","scope":"jobs:read","iat":-1e999,"exp":${now + 600}}`)}`;
    const signature = createHmac('sha256', testJwtSecret).update(input).digest('base64url');
    const response = await models(`${input}.${signature}`);

    expect(response.status).toBe(401);
    expect((await problemOf(response)).detail).toContain('not a finite number');
  });

  it('accepts an iat within the clock tolerance', async () => {
    const response = await models(await tokenIssuedIn(20));

    expect(response.status).toBe(200);
  });

  it('cannot outlive a subject revocation', async () => {
    const futureToken = await tokenIssuedIn(3_000, 'dave');
    expect((await revokeSubject('dave')).status).toBe(204);

    expect((await models(futureToken)).status).toBe(401);
  });

  it('is revoked with its subject when within the tolerance', async () => {
    const token = await tokenIssuedIn(20, 'erin');
    expect((await models(token)).status).toBe(200);
    expect((await revokeSubject('erin')).status).toBe(204);

    expect((await models(token)).status).toBe(401);
  });
});
