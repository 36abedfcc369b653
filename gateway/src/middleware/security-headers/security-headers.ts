import { randomUUID } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import { cors } from 'hono/cors';
import type { GatewayEnv } from '../../http/context.js';
import { setResponseHeader } from '../../http/respond.js';

/**
 * Headers of every response. The API serves JSON only, so the CSP forbids every fetch and
 * framing, and nothing may be cached because responses carry patient-related results.
 */
export const SECURITY_HEADERS: readonly [string, string][] = [
  ['strict-transport-security', 'max-age=63072000; includeSubDomains'],
  ['x-content-type-options', 'nosniff'],
  ['x-frame-options', 'DENY'],
  ['referrer-policy', 'no-referrer'],
  [
    'content-security-policy',
    "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
  ],
  ['cross-origin-resource-policy', 'same-origin'],
  ['cache-control', 'no-store'],
];

/** `SECURITY_HEADERS` as a record, copied into each request's `responseHeaders`. */
const SECURITY_HEADER_RECORD: Readonly<Record<string, string>> = Object.freeze(
  Object.fromEntries(SECURITY_HEADERS),
);

/** A caller's request id is echoed only when it is 1 to 128 visible ASCII characters. */
const SANE_REQUEST_ID = /^[\x21-\x7e]{1,128}$/;

/** Sets the request id (the caller's when sane, else a new UUID) and echoes it as `X-Request-ID`. */
export function requestId(): MiddlewareHandler<GatewayEnv> {
  return async function requestId(c, next) {
    const offered = c.req.header('x-request-id');
    const id = offered !== undefined && SANE_REQUEST_ID.test(offered) ? offered : randomUUID();
    c.set('requestId', id);
    setResponseHeader(c, 'x-request-id', id);
    await next();
  };
}

/**
 * Applies the security headers, and every header set with `setResponseHeader`, to every
 * response, errors and 404s included. Neither Hono nor @hono/node-server adds an
 * `X-Powered-By` or `Server` header.
 *
 * The headers go into the `responseHeaders` record, which `respond()` copies into the
 * responses it builds. A response built another way (`c.json()` in a route, a problem
 * response, a CORS preflight) gets each header it does not have yet once it returns here.
 */
export function securityHeaders(): MiddlewareHandler<GatewayEnv> {
  return async function securityHeaders(c, next) {
    const headers: Record<string, string> = { ...SECURITY_HEADER_RECORD, ...c.get('responseHeaders') };
    c.set('responseHeaders', headers);
    await next();
    if (c.res === c.get('respondedWith')) return;
    const target = c.res.headers;
    for (const name in headers) {
      if (!target.has(name)) target.set(name, headers[name] as string);
    }
  };
}

/**
 * CORS for an explicit origin allowlist; other origins get no CORS headers at all. Credentials
 * are never allowed, because clients authenticate with bearer tokens, not cookies.
 */
export function corsAllowlist(origins: readonly string[]): MiddlewareHandler<GatewayEnv> {
  return cors({
    origin: [...origins],
    allowMethods: ['GET', 'POST', 'DELETE'],
    allowHeaders: [
      'Authorization',
      'Content-Type',
      'Idempotency-Key',
      'Prefer',
      'X-Request-ID',
      'traceparent',
    ],
    exposeHeaders: [
      'Location',
      'Retry-After',
      'RateLimit',
      'RateLimit-Policy',
      'X-Request-ID',
      'Preference-Applied',
    ],
    maxAge: 600,
    credentials: false,
  });
}
