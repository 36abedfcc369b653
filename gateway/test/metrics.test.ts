import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintToken } from '../../test-support/tokens.js';
import { bearer, createTestGateway, type TestGateway } from './support.js';

describe('metrics', () => {
  let gateway: TestGateway;
  beforeAll(async () => {
    gateway = await createTestGateway('metrics', { env: { RATE_LIMIT_ANON_PER_MINUTE: '1000' } });
  });
  afterAll(() => gateway.dispose());

  const seriesCount = async () =>
    (await gateway.services.metrics.registry.getSingleMetric('http_requests_total')?.get())?.values.length ??
    0;

  it('adds at most one series for 100 unknown paths', async () => {
    await gateway.request('/warm-up-unknown');
    const before = await seriesCount();
    for (let index = 0; index < 100; index++) {
      await gateway.request(`/${randomBytes(6).toString('hex')}/${index}`);
    }
    expect((await seriesCount()) - before).toBeLessThanOrEqual(1);
  });

  it('labels requests with route templates', async () => {
    await gateway.request('/v1/jobs/00000000-0000-4000-8000-000000000000', {
      headers: bearer(await mintToken()),
    });
    const text = await (await gateway.request('/metrics')).text();
    expect(text).toContain('http_requests_total{route="/v1/jobs/:id",method="GET",status="404"} 1');
    expect(text).toContain('http_requests_total{route="unmatched",method="GET",status="404"}');
  });

  it('exposes every gateway metric name', async () => {
    await gateway.request('/version');
    const response = await gateway.request('/metrics');
    expect(response.headers.get('content-type')).toContain('text/plain');
    const text = await response.text();
    for (const name of [
      'http_requests_total',
      'http_request_duration_seconds',
      'rate_limit_hits_total',
      'rate_limit_exceeded_total',
      'auth_failures_total',
      'jobs_submitted_total',
      'redis_up',
      'redis_operation_duration_seconds',
    ]) {
      expect(text).toContain(`# TYPE ${name} `);
    }
    expect(text).toMatch(/redis_operation_duration_seconds_count\{operation="edge_check"\} \d+/);
    expect(text).toMatch(/rate_limit_hits_total\{route="\/version"\} \d+/);
  });
});
