import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintToken } from '../../test-support/tokens.js';
import { bearer, createTestGateway, type TestGateway } from './support.js';

const SECURITY_HEADERS = {
  'strict-transport-security': 'max-age=63072000; includeSubDomains',
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
};

function expectSecurityHeaders(response: Response): void {
  for (const [name, value] of Object.entries(SECURITY_HEADERS)) {
    expect(response.headers.get(name), `${name} on ${response.status}`).toBe(value);
  }
  expect(response.headers.get('content-security-policy')).toContain("default-src 'none'");
  expect(response.headers.get('x-powered-by')).toBeNull();
  expect(response.headers.get('x-request-id')).toBeTruthy();
}

describe('response headers', () => {
  let gateway: TestGateway;
  beforeAll(async () => {
    gateway = await createTestGateway('headers', { env: { RATE_LIMIT_ANON_PER_MINUTE: '1' } });
  });
  afterAll(() => gateway.dispose());

  it('carries the security headers on every kind of response', async () => {
    const responses = [
      await gateway.request('/healthz'),
      await gateway.request('/no/such/path'),
      await gateway.request('/v1/models'),
      await gateway.request('/v1/models', { headers: bearer(await mintToken({ scope: 'jobs:write' })) }),
      await gateway.request('/version', {}, '198.51.100.20'),
      await gateway.request('/version', {}, '198.51.100.20'),
      await gateway.request('/v1/models', { headers: bearer(await mintToken()) }),
    ];
    expect(responses.map((response) => response.status)).toEqual([200, 404, 401, 403, 200, 429, 200]);
    for (const response of responses) expectSecurityHeaders(response);
  });

  it('echoes a sane X-Request-ID', async () => {
    const response = await gateway.request('/no/such/path', {
      headers: { 'x-request-id': 'abc-123.DEF_456' },
    });
    expect(response.headers.get('x-request-id')).toBe('abc-123.DEF_456');
    expect(((await response.json()) as { requestId: string }).requestId).toBe('abc-123.DEF_456');
  });

  it.each([
    ['too long', 'x'.repeat(129)],
    ['with spaces', 'a b'],
    ['with control characters', 'a\tb'],
    ['empty', ''],
  ])('replaces an X-Request-ID %s', async (_, value) => {
    const response = await gateway.request('/healthz', { headers: { 'x-request-id': value } });
    expect(response.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('sends no CORS headers by default', async () => {
    const response = await gateway.request('/healthz', { headers: { origin: 'https://evil.example' } });
    expect(response.headers.get('access-control-allow-origin')).toBeNull();
  });
});

describe('CORS with an allowlist', () => {
  let gateway: TestGateway;
  beforeAll(async () => {
    gateway = await createTestGateway('cors', { env: { CORS_ALLOWED_ORIGINS: 'https://viewer.example' } });
  });
  afterAll(() => gateway.dispose());

  it('allows a listed origin without credentials', async () => {
    const response = await gateway.request('/healthz', { headers: { origin: 'https://viewer.example' } });
    expect(response.headers.get('access-control-allow-origin')).toBe('https://viewer.example');
    expect(response.headers.get('access-control-allow-credentials')).toBeNull();
  });

  it('does not reflect other origins', async () => {
    const response = await gateway.request('/healthz', { headers: { origin: 'https://evil.example' } });
    expect(response.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('answers a preflight for a listed origin', async () => {
    const response = await gateway.request('/v1/models', {
      method: 'OPTIONS',
      headers: { origin: 'https://viewer.example', 'access-control-request-method': 'POST' },
    });
    expect(response.status).toBe(204);
    expect(response.headers.get('access-control-allow-methods')).toContain('POST');
  });
});
