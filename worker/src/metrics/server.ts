import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { toListenError } from '@medai-flow/common';
import type { Registry } from 'prom-client';

/** Readiness: ready, or the reasons why not. */
export type ReadinessCheck = () => Promise<{ ready: boolean; reasons: string[] }>;

/** The worker's small HTTP server: /metrics, /healthz (alive) and /readyz. */
export class MetricsServer {
  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  /**
   * Listens on `host`:`port` (0 takes a free port); `port` is the bound one. A port that is
   * in use or not permitted rejects with a `ListenError` naming METRICS_PORT.
   */
  static async start(
    registry: Registry,
    readiness: ReadinessCheck,
    host: string,
    port: number,
  ): Promise<MetricsServer> {
    const server = createServer((request, response) => {
      const path = (request.url ?? '/').split('?')[0];
      const reply = (status: number, contentType: string, body: string) => {
        response.writeHead(status, { 'content-type': contentType, 'cache-control': 'no-store' });
        response.end(body);
      };
      if (request.method !== 'GET') return reply(405, 'text/plain', 'method not allowed\n');
      if (path === '/healthz') return reply(200, 'application/json', '{"status":"ok"}\n');
      if (path === '/readyz') {
        void readiness().then(({ ready, reasons }) =>
          reply(
            ready ? 200 : 503,
            'application/json',
            `${JSON.stringify({ status: ready ? 'ready' : 'not ready', reasons })}\n`,
          ),
        );
        return;
      }
      if (path === '/metrics') {
        void registry.metrics().then(
          (text) => reply(200, registry.contentType, text),
          () => reply(500, 'text/plain', 'metrics collection failed\n'),
        );
        return;
      }
      reply(404, 'text/plain', 'not found\n');
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', (error) => reject(toListenError(error, 'METRICS_PORT', host, port)));
      server.listen(port, host, () => resolve());
    });
    return new MetricsServer(server, (server.address() as AddressInfo).port);
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }
}
