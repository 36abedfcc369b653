import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allowedMethodsOf } from '../src/http/allowed-methods.js';
import { createTestGateway, problemOf, type TestGateway } from './support.js';

describe('requests no route handles', () => {
  let gateway: TestGateway;
  beforeAll(async () => {
    gateway = await createTestGateway('routing');
  });
  afterAll(() => gateway.dispose());

  it.each([
    ['PUT', '/v1/jobs/x', 'DELETE, GET, HEAD'],
    ['OPTIONS', '/v1/models', 'GET, HEAD'],
    ['GET', '/v1/models/nuclei-unet/jobs', 'POST'],
    ['DELETE', '/v2/models/nuclei-unet/versions/1/ready', 'GET, HEAD'],
  ])('answers %s %s with 405 and Allow', async (method, path, allow) => {
    const response = await gateway.request(path, { method });
    expect(response.status).toBe(405);
    expect(response.headers.get('allow')).toBe(allow);
    const problem = await problemOf(response);
    expect(problem.type).toMatch(/\/method-not-allowed$/);
    expect(problem.detail).toContain(method);
    expect(problem.allowed).toEqual(allow.split(', '));
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
  });

  it('answers an unknown path with 404 and no Allow', async () => {
    const response = await gateway.request('/v1/nothing-here', { method: 'PUT' });
    expect(response.status).toBe(404);
    expect(response.headers.get('allow')).toBeNull();
    expect((await problemOf(response)).type).toMatch(/\/not-found$/);
  });

  it('labels 405 answers with the shared unmatched route', async () => {
    await gateway.request('/v1/jobs/a', { method: 'PATCH' });
    await gateway.request('/v1/jobs/b', { method: 'PATCH' });
    const text = await (await gateway.request('/metrics')).text();
    expect(text).toContain('http_requests_total{route="unmatched",method="PATCH",status="405"} 2');
  });
});

describe('allowedMethodsOf', () => {
  const handler = () => new Response();

  it('ignores middleware and merges routes of one path', () => {
    const allowed = allowedMethodsOf([
      { basePath: '/', path: '/*', method: 'ALL', handler },
      { basePath: '/', path: '/items/:id', method: 'GET', handler },
      { basePath: '/', path: '/items/:id', method: 'GET', handler },
      { basePath: '/', path: '/items/:id', method: 'DELETE', handler },
    ]);
    expect(allowed('/items/7')).toEqual(['DELETE', 'GET', 'HEAD']);
    expect(allowed('/items')).toEqual([]);
    expect(allowed('/items/7/more')).toEqual([]);
  });
});
