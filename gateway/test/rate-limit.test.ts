import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintToken } from '../../test-support/tokens.js';
import { bearer, createTestGateway, ManualClock, type TestGateway } from './support.js';

const LIMIT = 10;

describe('rate limits', () => {
  // A minute boundary plus a margin, so "just before the edge" is a real instant.
  const clock = new ManualClock(Math.floor(Date.now() / 60_000) * 60_000 + 59_900);
  let gateway: TestGateway;
  beforeAll(async () => {
    gateway = await createTestGateway('rate-limit', {
      clock,
      env: {
        RATE_LIMIT_PER_MINUTE: String(LIMIT),
        RATE_LIMIT_ADMIN_PER_MINUTE: String(LIMIT * 3),
        RATE_LIMIT_ANON_PER_MINUTE: String(LIMIT),
        TRUSTED_PROXIES: '10.0.0.0/8',
      },
    });
  });
  afterAll(() => gateway.dispose());

  async function burst(count: number, send: () => Promise<Response>): Promise<Response[]> {
    const responses: Response[] = [];
    for (let index = 0; index < count; index++) responses.push(await send());
    return responses;
  }
  const passed = (responses: Response[]) => responses.filter((response) => response.status !== 429).length;

  it('admits no second burst across a window edge', async () => {
    const token = await mintToken({ sub: 'edge-walker', expiresInSeconds: 3_600 });
    const send = () => gateway.request('/v1/models', { headers: bearer(token) });
    const beforeEdge = await burst(LIMIT, send);
    clock.advance(200);
    const afterEdge = await burst(LIMIT, send);
    expect(passed(beforeEdge)).toBe(LIMIT);
    // 200 ms of a 10-per-minute rate refill nothing.
    expect(passed(afterEdge)).toBe(0);
  });

  it('counts concurrent requests of one subject one after the other', async () => {
    // Requests that arrive in one event-loop turn share one script call; each is still counted.
    const token = await mintToken({ sub: 'crowd', expiresInSeconds: 3_600 });
    const responses = await Promise.all(
      Array.from({ length: LIMIT + 5 }, () => gateway.request('/v1/models', { headers: bearer(token) })),
    );
    expect(passed(responses)).toBe(LIMIT);
    const remaining = responses
      .filter((response) => response.status === 200)
      .map((response) => Number(/r=(\d+)/.exec(response.headers.get('ratelimit') ?? '')?.[1]))
      .sort((a, b) => a - b);
    expect(remaining).toEqual(Array.from({ length: LIMIT }, (_, index) => index));
  });

  it('answers 429 with Retry-After and the RateLimit headers', async () => {
    const token = await mintToken({ sub: 'hasty', expiresInSeconds: 3_600 });
    const responses = await burst(LIMIT + 1, () => gateway.request('/v1/models', { headers: bearer(token) }));
    const first = responses[0] as Response;
    const rejected = responses.at(-1) as Response;
    expect(first.headers.get('ratelimit-policy')).toBe(`"standard";q=${LIMIT};w=60`);
    expect(first.headers.get('ratelimit')).toMatch(new RegExp(`^"standard";r=${LIMIT - 1};t=\\d+$`));
    expect(rejected.status).toBe(429);
    expect(Number(rejected.headers.get('retry-after'))).toBe(6);
    expect(rejected.headers.get('ratelimit')).toMatch(/^"standard";r=0;t=\d+$/);
    expect(rejected.headers.get('content-type')).toBe('application/problem+json');
  });

  it('refills at the sustained rate', async () => {
    const token = await mintToken({ sub: 'patient', expiresInSeconds: 3_600 });
    const send = () => gateway.request('/v1/models', { headers: bearer(token) });
    await burst(LIMIT, send);
    expect((await send()).status).toBe(429);
    clock.advance(6_000);
    expect((await send()).status).toBe(200);
    expect((await send()).status).toBe(429);
  });

  it('gives admins their own tier', async () => {
    const token = await mintToken({ sub: 'operator', scope: 'admin', expiresInSeconds: 3_600 });
    const responses = await burst(LIMIT * 3 + 1, () =>
      gateway.request('/v1/models', { headers: bearer(token) }),
    );
    expect(passed(responses)).toBe(LIMIT * 3);
    expect(responses[0]?.headers.get('ratelimit-policy')).toBe(`"admin";q=${LIMIT * 3};w=60`);
  });

  it('limits each address on unauthenticated routes', async () => {
    const responses = await burst(LIMIT + 1, () => gateway.request('/version', {}, '198.51.100.1'));
    expect(passed(responses)).toBe(LIMIT);
    expect((await gateway.request('/version', {}, '198.51.100.2')).status).toBe(200);
  });

  it('limits failed tokens per address', async () => {
    const forged = await mintToken({ sub: 'forger', secret: 'a-forger-secret-of-at-least-32-bytes-length' });
    const signatureFailures = async () =>
      (await gateway.services.metrics.authFailures.get()).values.find(
        (value) => value.labels.reason === 'signature',
      )?.value ?? 0;
    const valid = await mintToken({ sub: 'neighbour', expiresInSeconds: 3_600 });
    expect((await gateway.request('/v1/models', { headers: bearer(valid) }, '198.51.100.77')).status).toBe(
      200,
    );
    const before = await signatureFailures();
    const responses = await burst(LIMIT + 3, () =>
      gateway.request('/v1/models', { headers: bearer(forged) }, '198.51.100.77'),
    );
    const statuses = responses.map((response) => response.status);
    expect(statuses.slice(0, LIMIT)).toEqual(Array.from({ length: LIMIT }, () => 401));
    expect(statuses.slice(LIMIT)).toEqual([429, 429, 429]);
    expect(responses.at(-1)?.headers.get('retry-after')).not.toBeNull();
    // Over the limit, the signature is not checked at all.
    expect((await signatureFailures()) - before).toBe(LIMIT);
    // A token verified before is limited per subject, not per address; a new one waits.
    expect((await gateway.request('/v1/models', { headers: bearer(valid) }, '198.51.100.77')).status).toBe(
      200,
    );
    const fresh = await mintToken({ sub: 'latecomer', expiresInSeconds: 3_600 });
    expect((await gateway.request('/v1/models', { headers: bearer(fresh) }, '198.51.100.77')).status).toBe(
      429,
    );
  });

  it('limits each IPv6 /64 as one client', async () => {
    // Other spellings of one address, and other hosts of its /64, share the bucket.
    const peers = ['2001:db8:7::1', '2001:DB8:7:0::1', '2001:0db8:0007::abcd', '2001:db8:7::ffff:1'];
    const responses = await burst(LIMIT + 4, async () => {
      return gateway.request('/version', {}, peers[Math.floor(Math.random() * peers.length)]);
    });
    expect(passed(responses)).toBe(LIMIT);
    expect((await gateway.request('/version', {}, '2001:db8:8::1')).status).toBe(200);
  });

  it('ignores X-Forwarded-For from an untrusted peer', async () => {
    const responses = await burst(LIMIT + 5, async () => {
      const forged = `192.0.2.${Math.floor(Math.random() * 250)}`;
      return gateway.request('/version', { headers: { 'x-forwarded-for': forged } }, '198.51.100.9');
    });
    expect(passed(responses)).toBe(LIMIT);
  });

  it('believes X-Forwarded-For from a trusted proxy', async () => {
    const viaProxy = (client: string) =>
      gateway.request('/version', { headers: { 'x-forwarded-for': `${client}, 10.1.2.3` } }, '10.0.0.1');
    const first = await burst(LIMIT + 1, () => viaProxy('192.0.2.10'));
    expect(passed(first)).toBe(LIMIT);
    expect((await viaProxy('192.0.2.11')).status).toBe(200);
  });

  it('writes only keys that expire', async () => {
    const keys = await gateway.redis.keys(`${gateway.prefix}:rl:*`);
    expect(keys.length).toBeGreaterThan(0);
    for (const key of keys) {
      expect(await gateway.redis.pttl(key), key).toBeGreaterThan(0);
    }
  });

  it('leaves health and metrics unlimited', async () => {
    const responses = await burst(LIMIT + 5, () => gateway.request('/healthz', {}, '198.51.100.1'));
    expect(passed(responses)).toBe(LIMIT + 5);
  });
});

describe('rate limits of a fractional interval', () => {
  // 60000 / 9 ms is not a whole number, so rounding must not deny the ninth request.
  const clock = new ManualClock(Date.now());
  let gateway: TestGateway;
  beforeAll(async () => {
    gateway = await createTestGateway('rate-limit-nine', { clock, env: { RATE_LIMIT_PER_MINUTE: '9' } });
  });
  afterAll(() => gateway.dispose());

  it('admits the whole burst at one instant', async () => {
    const token = await mintToken({ sub: 'ninefold', expiresInSeconds: 3_600 });
    const statuses: number[] = [];
    const remaining: string[] = [];
    for (let index = 0; index < 10; index++) {
      const response = await gateway.request('/v1/models', { headers: bearer(token) });
      statuses.push(response.status);
      remaining.push(/r=(\d+)/.exec(response.headers.get('ratelimit') ?? '')?.[1] ?? '');
    }
    expect(statuses).toEqual([...Array.from({ length: 9 }, () => 200), 429]);
    expect(remaining).toEqual(['8', '7', '6', '5', '4', '3', '2', '1', '0', '0']);
  });
});
