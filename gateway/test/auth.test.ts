import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type CryptoKey, exportJWK, exportSPKI, generateKeyPair, type JWK, SignJWT } from 'jose';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { mintToken } from '../../test-support/tokens.js';
import { bearer, createTestGateway, problemOf, type TestGateway } from './support.js';

const base64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

describe('bearer tokens with an HS256 secret', () => {
  let gateway: TestGateway;
  beforeAll(async () => {
    gateway = await createTestGateway('auth', { env: { AUTH_CLOCK_TOLERANCE_SECONDS: '30' } });
  });
  afterAll(() => gateway.dispose());

  const get = (headers: Record<string, string> = {}) => gateway.request('/v1/models', { headers });

  it('accepts a valid token', async () => {
    const response = await get(bearer(await mintToken()));
    expect(response.status).toBe(200);
  });

  it('challenges a request without credentials', async () => {
    const response = await get();
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toBe('Bearer realm="medai-flow"');
    expect((await problemOf(response)).type).toMatch(/unauthorized$/);
  });

  it('rejects a garbage token with invalid_token', async () => {
    const response = await get(bearer('garbage'));
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toContain('error="invalid_token"');
  });

  it('answers a malformed Bearer header with invalid_request', async () => {
    const response = await get({ authorization: 'Bearer a b "c"' });
    expect(response.status).toBe(400);
    expect(response.headers.get('www-authenticate')).toContain('error="invalid_request"');
  });

  it('never fails on long or odd Authorization values', async () => {
    const values = [
      `Bearer ${'a'.repeat(20_000)}`,
      'Bearer',
      'Bearer ',
      'bearer ===',
      'Basic Zm9vOmJhcg==',
      '\u00e9\u00e9',
    ];
    for (const value of values) {
      const response = await get({ authorization: value });
      expect([400, 401], value.slice(0, 20)).toContain(response.status);
      const text = await response.text();
      expect(text).not.toContain('aaaaaaaa');
    }
  });

  it('rejects a token just over the length limit', async () => {
    const response = await get({ authorization: `Bearer ${'a'.repeat(8_200)}` });
    expect(response.status).toBe(400);
    expect((await problemOf(response)).detail).toBe('the Bearer token is longer than 8192 characters');
  });

  it.each(['none', 'None', 'NONE', 'nOnE'])('rejects alg %s', async (alg) => {
    const now = Math.floor(Date.now() / 1000);
    const token = `${base64url({ alg, typ: 'JWT' })}.${base64url({ sub: 'mallory', scope: 'admin', exp: now + 300 })}.`;
    const response = await get(bearer(token));
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toContain('error="invalid_token"');
  });

  it('rejects a token signed with another secret', async () => {
    const response = await get(
      bearer(await mintToken({ secret: 'another-secret-of-at-least-32-bytes-length' })),
    );
    expect(response.status).toBe(401);
  });

  it('accepts a token expired within the clock tolerance', async () => {
    const response = await get(bearer(await mintToken({ expiresInSeconds: -10 })));
    expect(response.status).toBe(200);
  });

  it('rejects a token expired beyond the clock tolerance', async () => {
    const response = await get(bearer(await mintToken({ expiresInSeconds: -60 })));
    expect(response.status).toBe(401);
    expect((await problemOf(response)).detail).toBe('the token has expired');
  });

  it('rejects a token whose nbf is in the future', async () => {
    const response = await get(bearer(await mintToken({ notBeforeSeconds: 120 })));
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toContain('nbf');
  });

  it('rejects a token without exp', async () => {
    const token = await new SignJWT({ scope: 'jobs:read' })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('alice')
      .setIssuedAt()
      .sign(new TextEncoder().encode((await import('../../test-support/tokens.js')).testJwtSecret));
    const response = await get(bearer(token));
    expect(response.status).toBe(401);
    expect((await problemOf(response)).detail).toContain('"exp"');
  });

  it('rejects a payload that is not JSON', async () => {
    const { createHmac } = await import('node:crypto');
    const { testJwtSecret } = await import('../../test-support/tokens.js');
    const signingInput = `${base64url({ alg: 'HS256', typ: 'JWT' })}.${Buffer.from('not json {').toString('base64url')}`;
    const signature = createHmac('sha256', testJwtSecret).update(signingInput).digest('base64url');
    const response = await get(bearer(`${signingInput}.${signature}`));
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toContain('error="invalid_token"');
  });

  it('rejects a token that names its own key source', async () => {
    const token = await new SignJWT({ scope: 'jobs:read' })
      .setProtectedHeader({ alg: 'HS256', jku: 'http://127.0.0.1:1/jwks.json' })
      .setSubject('alice')
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(new TextEncoder().encode((await import('../../test-support/tokens.js')).testJwtSecret));
    const response = await get(bearer(token));
    expect(response.status).toBe(401);
    expect((await problemOf(response)).detail).toContain('"jku"');
  });

  it('answers 403 insufficient_scope for a missing permission', async () => {
    const response = await gateway.request('/v1/models/nuclei-unet/jobs', {
      method: 'POST',
      headers: { ...bearer(await mintToken({ scope: 'jobs:read' })), 'content-type': 'image/png' },
      body: new Uint8Array(8),
    });
    expect(response.status).toBe(403);
    expect(response.headers.get('www-authenticate')).toBe(
      'Bearer realm="medai-flow", error="insufficient_scope", error_description="the token lacks the jobs:write permission", scope="jobs:write"',
    );
  });

  it('takes permissions from roles and scp', async () => {
    const fromRoles = await get(bearer(await mintToken({ scope: '', roles: ['jobs:read'] })));
    const fromScp = await get(bearer(await mintToken({ scope: '', claims: { scp: 'jobs:read' } })));
    expect(fromRoles.status).toBe(200);
    expect(fromScp.status).toBe(200);
  });

  it('counts failures by reason', async () => {
    await get(bearer(await mintToken({ expiresInSeconds: -600 })));
    const metrics = await gateway.services.metrics.registry.getSingleMetricAsString('auth_failures_total');
    expect(metrics).toMatch(/auth_failures_total\{reason="expired"\} [1-9]/);
  });
});

/** Signs a 5-minute `jobs:read` token for alice with an asymmetric key. */
function signAsymmetric(alg: 'RS256' | 'ES256', key: CryptoKey): Promise<string> {
  return new SignJWT({ scope: 'jobs:read' })
    .setProtectedHeader({ alg })
    .setSubject('alice')
    .setIssuedAt()
    .setExpirationTime('5m')
    .sign(key);
}

describe('bearer tokens with an RSA public key', () => {
  let gateway: TestGateway;
  let publicPem: string;
  let privateKey: CryptoKey;
  beforeAll(async () => {
    const pair = await generateKeyPair('RS256', { extractable: true });
    privateKey = pair.privateKey;
    publicPem = await exportSPKI(pair.publicKey);
    gateway = await createTestGateway('auth-rsa', {
      env: { AUTH_JWT_SECRET: '', AUTH_JWT_PUBLIC_KEY: publicPem },
    });
  });
  afterAll(() => gateway.dispose());

  it('accepts an RS256 token', async () => {
    const token = await signAsymmetric('RS256', privateKey);
    expect((await gateway.request('/v1/models', { headers: bearer(token) })).status).toBe(200);
  });

  it('rejects HS256 signed with the public key as the secret', async () => {
    const token = await new SignJWT({ scope: 'admin' })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('mallory')
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(new TextEncoder().encode(publicPem));
    const response = await gateway.request('/v1/models', { headers: bearer(token) });
    expect(response.status).toBe(401);
    expect((await problemOf(response)).detail).toBe('the token algorithm is not allowed');
  });
});

/** Order n of the P-256 group: an ES256 signature (r, s) is also valid as (r, n - s). */
const P256_ORDER = BigInt('0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551');

/** Returns `token` with its ES256 signature (r, s) replaced by the other valid form (r, n - s). */
function otherEcdsaForm(token: string): string {
  const dot = token.lastIndexOf('.');
  const signature = Buffer.from(token.slice(dot + 1), 'base64url');
  const s = BigInt(`0x${signature.subarray(32).toString('hex')}`);
  const flipped = Buffer.from((P256_ORDER - s).toString(16).padStart(64, '0'), 'hex');
  return `${token.slice(0, dot)}.${Buffer.concat([signature.subarray(0, 32), flipped]).toString('base64url')}`;
}

describe('bearer tokens with an EC public key', () => {
  let gateway: TestGateway;
  let privateKey: CryptoKey;
  beforeAll(async () => {
    const pair = await generateKeyPair('ES256', { extractable: true });
    privateKey = pair.privateKey;
    gateway = await createTestGateway('auth-ec', {
      env: { AUTH_JWT_SECRET: '', AUTH_JWT_PUBLIC_KEY: await exportSPKI(pair.publicKey) },
    });
  });
  afterAll(() => gateway.dispose());

  it('revokes both ECDSA forms of a token without jti', async () => {
    const token = await signAsymmetric('ES256', privateKey);
    const other = otherEcdsaForm(token);
    const list = (value: string) => gateway.request('/v1/models', { headers: bearer(value) });
    expect((await list(other)).status).toBe(200);

    const revoked = await gateway.request('/v1/auth/revoke', { method: 'POST', headers: bearer(token) });
    expect(revoked.status).toBe(204);
    expect((await list(token)).status).toBe(401);
    expect((await list(other)).status).toBe(401);
  });
});

describe('bearer tokens from a rotating JWKS', () => {
  let server: Server;
  let keys: JWK[] = [];
  let fetches = 0;
  let gateway: TestGateway;
  const signers = new Map<string, CryptoKey>();

  async function addKey(kid: string): Promise<JWK> {
    const pair = await generateKeyPair('ES256');
    signers.set(kid, pair.privateKey);
    return { ...(await exportJWK(pair.publicKey)), kid, alg: 'ES256', use: 'sig' };
  }

  async function tokenFor(kid: string, key = signers.get(kid)): Promise<string> {
    return new SignJWT({ scope: 'jobs:read' })
      .setProtectedHeader({ alg: 'ES256', kid })
      .setSubject('alice')
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(key as CryptoKey);
  }

  beforeAll(async () => {
    keys = [await addKey('k1')];
    server = createServer((_, response) => {
      fetches++;
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys }));
    });
    await new Promise<void>((resolveListen) => server.listen(0, '127.0.0.1', resolveListen));
    const { port } = server.address() as AddressInfo;
    gateway = await createTestGateway('auth-jwks', {
      env: {
        AUTH_JWT_SECRET: '',
        AUTH_JWKS_URL: `http://127.0.0.1:${port}/jwks.json`,
        AUTH_JWKS_COOLDOWN_MS: '300',
      },
    });
  });
  afterAll(async () => {
    await gateway.dispose();
    await new Promise((resolveClose) => server.close(resolveClose));
  });
  afterEach(() => undefined);

  it('follows a key rotation and bounds refreshes', async () => {
    const request = (token: string) => gateway.request('/v1/models', { headers: bearer(token) });
    expect((await request(await tokenFor('k1'))).status).toBe(200);
    expect(fetches).toBe(1);

    keys = [await addKey('k2')];
    await new Promise((resolveWait) => setTimeout(resolveWait, 350));
    expect((await request(await tokenFor('k2'))).status).toBe(200);
    expect(fetches).toBe(2);

    const removedKeyToken = await new SignJWT({ scope: 'jobs:read' })
      .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
      .setSubject('alice')
      .setIssuedAt()
      .setExpirationTime('6m')
      .sign(signers.get('k1') as CryptoKey);
    expect((await request(removedKeyToken)).status).toBe(401);

    const before = fetches;
    const unknown = await Promise.all(
      Array.from({ length: 30 }, async (_, index) =>
        request(await tokenFor(`unknown-${index}`, signers.get('k2'))),
      ),
    );
    expect(unknown.every((response) => response.status === 401)).toBe(true);
    expect(fetches - before).toBeLessThanOrEqual(1);
  });
});
