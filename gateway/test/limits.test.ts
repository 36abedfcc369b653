import { request as httpRequest, type IncomingMessage } from 'node:http';
import { connect, type Socket } from 'node:net';
import { createLogger, loadConfig, ModelRegistry, RedisKeys } from '@medai-flow/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway } from '../../test-support/processes.js';
import { deleteKeys, testRedisUrl, uniquePrefix } from '../../test-support/redis.js';
import { mintToken } from '../../test-support/tokens.js';
import {
  createApp,
  type GatewayApp,
  type GatewayServer,
  gatewayEnvSchema,
  startServer,
} from '../src/index.js';
import { connectProducer, readManifest, testEnv } from './support.js';

const MAX_BODY = 1024 * 1024;

describe('resource limits over HTTP', () => {
  const prefix = uniquePrefix('limits');
  let gateway: GatewayApp;
  let server: GatewayServer;
  let token: string;

  beforeAll(async () => {
    const config = loadConfig(
      gatewayEnvSchema,
      testEnv(prefix, {
        PORT: '0',
        HOST: '127.0.0.1',
        MAX_BODY_BYTES: String(MAX_BODY),
        MAX_HEADER_BYTES: '8192',
        HEADERS_TIMEOUT_MS: '1000',
        REQUEST_TIMEOUT_MS: '5000',
      }),
    );
    const redis = await connectProducer(testRedisUrl);
    gateway = createApp({ config, redis, logger: createLogger('gateway', 'silent') });
    server = await startServer(gateway, config);
    await new ModelRegistry(redis, new RedisKeys(prefix)).publish(readManifest('nuclei-unet'), 'test-worker');
    token = await mintToken({ expiresInSeconds: 600 });
  });
  afterAll(async () => {
    await server.close();
    await gateway.close();
    gateway.services.redis.disconnect();
    await deleteKeys(testRedisUrl, prefix);
  });

  function submit(headers: Record<string, string>): {
    request: ReturnType<typeof httpRequest>;
    response: Promise<IncomingMessage>;
  } {
    const request = httpRequest({
      host: '127.0.0.1',
      port: server.port,
      method: 'POST',
      path: '/v1/models/nuclei-unet/jobs',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'image/png', ...headers },
    });
    const response = new Promise<IncomingMessage>((resolveResponse, reject) => {
      request.on('response', resolveResponse);
      request.on('error', reject);
    });
    return { request, response };
  }

  async function bodyOf(response: IncomingMessage): Promise<Record<string, unknown>> {
    const chunks: Buffer[] = [];
    for await (const chunk of response) chunks.push(chunk as Buffer);
    return JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
  }

  it('rejects a declared Content-Length over the limit before reading the body', async () => {
    const { request, response } = submit({ 'content-length': String(MAX_BODY * 64) });
    request.write(Buffer.alloc(1024));
    const answer = await response;
    request.destroy();
    expect(answer.statusCode).toBe(413);
    expect(answer.headers['content-type']).toBe('application/problem+json');
  });

  it('rejects a chunked body as soon as it passes the limit', async () => {
    const { request, response } = submit({ 'transfer-encoding': 'chunked' });
    let sent = 0;
    let answered = false;
    void response.then(() => {
      answered = true;
    });
    const chunk = Buffer.alloc(64 * 1024, 1);
    chunk.set([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    while (!answered && sent < MAX_BODY * 8) {
      await new Promise<void>((resolveWrite) => request.write(chunk, () => resolveWrite()));
      sent += chunk.byteLength;
    }
    const answer = await response;
    request.destroy();
    expect(answer.statusCode).toBe(413);
    expect((await bodyOf(answer)).limit).toBe(MAX_BODY);
    expect(sent).toBeLessThan(MAX_BODY * 8);
  });

  it('answers oversized headers with a 431 problem', async () => {
    const answer = await new Promise<IncomingMessage>((resolveResponse, reject) => {
      const request = httpRequest({
        host: '127.0.0.1',
        port: server.port,
        path: '/healthz',
        headers: { 'x-padding': 'p'.repeat(16_000) },
      });
      request.on('response', resolveResponse).on('error', reject).end();
    });
    expect(answer.statusCode).toBe(431);
    expect(answer.headers['x-content-type-options']).toBe('nosniff');
    expect((await bodyOf(answer)).type).toMatch(/header-too-large$/);
  });
});

describe('slow clients', () => {
  const prefix = uniquePrefix('slow-clients');
  let gateway: Awaited<ReturnType<typeof startGateway>>;
  beforeAll(async () => {
    gateway = await startGateway({ ...testEnv(prefix, { HEADERS_TIMEOUT_MS: '1000', LOG_LEVEL: 'info' }) });
  });
  afterAll(async () => {
    await gateway.kill('SIGTERM');
    await deleteKeys(testRedisUrl, prefix);
  });

  it('cannot starve /healthz and are cut off after the headers timeout', async () => {
    const stalled: Socket[] = [];
    const closed: Promise<number>[] = [];
    const startedAt = Date.now();
    for (let index = 0; index < 50; index++) {
      const socket = connect(gateway.port, '127.0.0.1');
      socket.on('error', () => undefined);
      socket.resume();
      closed.push(
        new Promise((resolveClose) => socket.once('close', () => resolveClose(Date.now() - startedAt))),
      );
      socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ');
      stalled.push(socket);
    }
    const health = await fetch(`${gateway.baseUrl}/healthz`);
    expect(health.status).toBe(200);
    const closedAfterMs = await Promise.all(closed);
    expect(Math.max(...closedAfterMs)).toBeLessThan(10_000);
  });
});
