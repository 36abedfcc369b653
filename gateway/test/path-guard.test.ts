import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isUnsafePath } from '../src/middleware/path-guard/index.js';
import { type GatewayServer, startServer } from '../src/server.js';
import { createTestGateway, type TestGateway } from './support.js';

/** Sends GET with `path` exactly as given, which fetch would normalize first. */
function rawGet(port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolveResponse, reject) => {
    const outgoing = request({ host: '127.0.0.1', port, path, method: 'GET' }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        body += chunk;
      });
      response.on('end', () => resolveResponse({ status: response.statusCode ?? 0, body }));
    });
    outgoing.on('error', reject);
    outgoing.end();
  });
}

describe('isUnsafePath', () => {
  it.each([
    '/v1/../metrics',
    '/v1/%2e%2e/metrics',
    '/x/%2E%2E/metrics',
    '/v1/.%2e/metrics',
    '/v1/%2e/models',
    '/v1/./models',
    '/v1/models%2Fnuclei',
    '/v1/models%5cnuclei',
  ])('rejects %s', (path) => {
    expect(isUnsafePath(path)).toBe(true);
  });

  it.each(['/v1/models', '/v1/models/nuclei-unet/jobs', '/v1/jobs/a.b', '/v1/...', '/'])(
    'accepts %s',
    (path) => {
      expect(isUnsafePath(path)).toBe(false);
    },
  );
});

describe('when the path has encoded dot segments', () => {
  let gateway: TestGateway;
  let server: GatewayServer;
  beforeAll(async () => {
    gateway = await createTestGateway('path-guard', { env: { PORT: '0', HOST: '127.0.0.1' } });
    server = await startServer(gateway, gateway.services.config);
  });
  afterAll(async () => {
    await server?.close();
    await gateway?.dispose();
  });

  it.each(['/v1/%2e%2e/metrics', '/x/%2E%2E/metrics', '/v1/../metrics', '/v1/%2e%2e%2fmetrics'])(
    'answers %s with 400',
    async (path) => {
      const response = await rawGet(server.port, path);

      expect(response.status).toBe(400);
      expect(response.body).not.toContain('http_requests_total');
    },
  );

  it('still serves /metrics', async () => {
    expect((await rawGet(server.port, '/metrics')).status).toBe(200);
  });
});
