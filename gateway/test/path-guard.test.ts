import { request } from 'node:http';
import { connect } from 'node:net';
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

/** Sends `text` on a new connection and returns the raw response. */
function rawExchange(port: number, text: string): Promise<string> {
  return new Promise((resolveResponse, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.end(text));
    let response = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      response += chunk;
    });
    socket.on('end', () => resolveResponse(response));
    socket.on('error', reject);
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
    '/%6detrics',
    '/v1/models/nuclei%2Dunet',
    '/v1/jobs/%31',
  ])('rejects %s', (path) => {
    expect(isUnsafePath(path)).toBe(true);
  });

  it.each(['/v1/models', '/v1/models/nuclei-unet/jobs', '/v1/jobs/a.b', '/v1/...', '/', '/v1/jobs/a%20b'])(
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

  it.each([
    'GET /v1\\..\\metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n',
    'GET /metrics HTTP/1.1\r\nHost: a/b@c\r\n\r\n',
    'GET http:///v1/metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n',
  ])('answers an unparsable target with 400 and headers: %j', async (text) => {
    const response = await rawExchange(server.port, text);

    expect(response).toMatch(/^HTTP\/1\.1 400 /);
    expect(response).toMatch(/\r\nx-content-type-options: nosniff\r\n/i);
    expect(response).toMatch(/\r\nx-request-id: [0-9a-f-]{36}\r\n/i);
    expect(response).toContain('application/problem+json');
    expect(response).not.toContain('http_requests_total');
  });

  it('counts rejected paths as unmatched', async () => {
    await rawGet(server.port, '/%6detrics');
    const metrics = (await rawGet(server.port, '/metrics')).body;

    expect(metrics).toMatch(/http_requests_total\{route="unmatched",method="GET",status="400"\} \d+/);
    expect(metrics).not.toMatch(/http_requests_total\{route="\/metrics",method="GET",status="400"\}/);
  });

  it('still serves /metrics', async () => {
    expect((await rawGet(server.port, '/metrics')).status).toBe(200);
  });
});
