import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { getRequestListener, RequestError } from '@hono/node-server';
import { toListenError } from '@medai-flow/common';
import type { GatewayApp } from './app.js';
import type { GatewayConfig } from './config.js';
import { GatewayError } from './errors/gateway-error.js';
import { buildProblem, type ProblemParts, problemFor } from './http/problem.js';
import { newResponseHeaders } from './middleware/security-headers/index.js';

/** A listening gateway. */
export interface GatewayServer {
  server: Server;
  /** The port actually bound (PORT=0 picks a free one). */
  port: number;
  /**
   * Stops accepting connections, closes idle keep-alive connections at once and waits for open
   * requests to finish, closing their connections after `SHUTDOWN_GRACE_SECONDS`; idempotent.
   */
  close(): Promise<void>;
}

/** How often Node checks requests against the header and request timeouts, in milliseconds. */
const TIMEOUT_CHECK_INTERVAL_MS = 1_000;

function clientErrorOf(error: NodeJS.ErrnoException): GatewayError {
  switch (error.code) {
    case 'HPE_HEADER_OVERFLOW':
      return new GatewayError('header_too_large', 'the request headers exceed the size limit');
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return new GatewayError('request_timeout', 'the request was not received in time');
    default:
      return new GatewayError('bad_request', 'the request is not valid HTTP/1.1');
  }
}

/** Returns the headers of a problem sent outside the app: its own, the security headers and the request id. */
function headersOutsideApp(parts: ProblemParts, requestId: string): Record<string, string> {
  return { ...parts.headers, ...newResponseHeaders(requestId) };
}

/**
 * Builds the response to a request that @hono/node-server cannot turn into a `Request`, such
 * as an invalid Host header or `GET /v1\..\metrics` (400), or to an error that escaped the
 * app (500). Both get a problem body and the security headers. Neither reaches the app's
 * error handler, so neither is counted in the metrics.
 */
function answerOutsideApp(error: unknown): Response {
  const requestId = randomUUID();
  const gatewayError =
    error instanceof RequestError
      ? new GatewayError('bad_request', 'the request target or Host header is not valid')
      : error;
  const parts = problemFor(gatewayError, requestId);
  return new Response(parts.body, { status: parts.status, headers: headersOutsideApp(parts, requestId) });
}

/**
 * Answers a request Node rejected before it reached the app (headers too large, too slow,
 * unparsable) with the same problem body and security headers as every other error.
 */
function answerClientError(error: NodeJS.ErrnoException, socket: Socket): void {
  if (error.code === 'ECONNRESET' || !socket.writable) {
    socket.destroy();
    return;
  }
  const requestId = randomUUID();
  const parts = buildProblem(clientErrorOf(error), requestId);
  const headers = headersOutsideApp(parts, requestId);
  const lines = Object.entries(headers).map(([name, value]) => `${name}: ${value}`);
  socket.end(
    [
      `HTTP/1.1 ${parts.status} ${JSON.parse(parts.body).title}`,
      ...lines,
      `content-length: ${Buffer.byteLength(parts.body)}`,
      'connection: close',
      '',
      parts.body,
    ].join('\r\n'),
  );
}

/** Serves the app with the header size limit and the header, request and keep-alive timeouts of `config`. */
export async function startServer(gateway: GatewayApp, config: GatewayConfig): Promise<GatewayServer> {
  let onListening: (info: AddressInfo) => void = () => undefined;
  let onError: (error: Error) => void = () => undefined;
  const listening = new Promise<AddressInfo>((resolveListen, rejectListen) => {
    onListening = resolveListen;
    onError = rejectListen;
  });
  // @hono/node-server's serve() takes no error handler, so the server is built from its
  // request listener, which responds to requests it cannot parse with `answerOutsideApp`.
  const listener = getRequestListener(gateway.app.fetch, {
    hostname: config.HOST,
    errorHandler: (error) => {
      if (!(error instanceof RequestError))
        gateway.services.logger.error({ err: error }, 'request failed outside the app');
      return answerOutsideApp(error);
    },
  });
  const server: Server = createServer(
    {
      maxHeaderSize: config.MAX_HEADER_BYTES,
      headersTimeout: config.HEADERS_TIMEOUT_MS,
      requestTimeout: config.REQUEST_TIMEOUT_MS,
      keepAliveTimeout: config.KEEP_ALIVE_TIMEOUT_MS,
      connectionsCheckingInterval: TIMEOUT_CHECK_INTERVAL_MS,
    },
    listener,
  );
  server.on('clientError', answerClientError);
  server.once('error', (error) => onError(error));
  server.listen(config.PORT, config.HOST, () => onListening(server.address() as AddressInfo));
  const { port } = await listening.catch((error: unknown) => {
    throw toListenError(error, 'PORT', config.HOST, config.PORT);
  });

  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= new Promise<void>((resolveClose, rejectClose) => {
      // A slow client may hold its request for up to REQUEST_TIMEOUT_MS, longer than Kubernetes
      // waits before SIGKILL, so connections still open after the grace are cut.
      const forceClose = setTimeout(() => server.closeAllConnections(), config.SHUTDOWN_GRACE_SECONDS * 1000);
      server.close((error) => {
        clearTimeout(forceClose);
        if (error) rejectClose(error);
        else resolveClose();
      });
      server.closeIdleConnections();
    });
    return closing;
  };
  return { server, port, close };
}
