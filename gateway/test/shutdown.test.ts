import { connect, type Socket } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mintToken } from '../../test-support/tokens.js';
import { type GatewayServer, startServer } from '../src/server.js';
import { createTestGateway, startPartialUpload, type TestGateway } from './support.js';

async function openSocket(port: number): Promise<Socket> {
  const socket = connect(port, '127.0.0.1');
  await new Promise<void>((resolveConnect, reject) => {
    socket.once('connect', () => resolveConnect());
    socket.once('error', reject);
  });
  return socket;
}

function closed(socket: Socket): Promise<void> {
  return new Promise((resolveClose) => {
    if (socket.destroyed) resolveClose();
    else socket.once('close', () => resolveClose());
  });
}

describe('when the gateway shuts down', () => {
  let gateway: TestGateway;
  let server: GatewayServer;
  beforeEach(async () => {
    gateway = await createTestGateway('shutdown', {
      env: { PORT: '0', HOST: '127.0.0.1', SHUTDOWN_GRACE_SECONDS: '1', KEEP_ALIVE_TIMEOUT_MS: '60000' },
    });
    server = await startServer(gateway, gateway.services.config);
  });
  afterEach(async () => {
    await server.close();
    await gateway.dispose();
  });

  it('closes idle keep-alive connections at once', async () => {
    const socket = await openSocket(server.port);
    const response = new Promise<void>((resolveResponse) => socket.once('data', () => resolveResponse()));
    socket.write('GET /healthz HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n');
    await response;
    const startedAt = Date.now();

    void server.close();
    await closed(socket);

    expect(Date.now() - startedAt).toBeLessThan(500);
  });

  it('cuts a slow upload after the grace', async () => {
    await gateway.publish('nuclei-unet');
    const token = await mintToken({ expiresInSeconds: 600 });
    const socket = await startPartialUpload(server.port, token, 100);
    await new Promise((resolveWait) => setTimeout(resolveWait, 100));
    const startedAt = Date.now();

    await server.close();
    await closed(socket);

    const elapsedMs = Date.now() - startedAt;
    expect(elapsedMs).toBeGreaterThanOrEqual(900);
    expect(elapsedMs).toBeLessThan(3_000);
  });

  it('stops accepting connections', async () => {
    await server.close();

    await expect(openSocket(server.port)).rejects.toThrow(/ECONNREFUSED/);
  });
});
