import { randomUUID } from 'node:crypto';
import type { Context, MiddlewareHandler } from 'hono';
import { cors } from 'hono/cors';
import type { GatewayEnv } from '../../http/context.js';

/**
 * Headers of every response. The API serves JSON only, so the CSP forbids every fetch and
 * framing, and nothing may be cached because responses carry patient-related results.
 */
const SECURITY_HEADERS: readonly [string, string][] = [
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

/** Returns the request id: the caller's `X-Request-ID` when sane, else a new UUID. */
export function requestIdFor(offered: string | undefined): string {
  return offered !== undefined && SANE_REQUEST_ID.test(offered) ? offered : randomUUID();
}

/** Creates the header record that every response to a request starts with: the security headers and the request id. */
export function newResponseHeaders(requestId: string): Record<string, string> {
  return { ...SECURITY_HEADER_RECORD, 'x-request-id': requestId };
}

/**
 * Adds `headers` (the request's `responseHeaders`) to the response, errors and 404s included.
 * Neither Hono nor @hono/node-server adds an `X-Powered-By` or `Server` header.
 *
 * `respond()` copies the record into the responses it builds already. A response built
 * another way (`c.json()` in a route, a problem response, a CORS preflight) gets each header
 * it does not have yet.
 */
export function applyResponseHeaders(c: Context<GatewayEnv>, headers: Record<string, string>): void {
  if (c.res === c.get('respondedWith')) return;
  const target = c.res.headers;
  for (const name in headers) {
    if (!target.has(name)) target.set(name, headers[name] as string);
  }
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
