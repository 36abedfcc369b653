import type { MiddlewareHandler } from 'hono';
import { GatewayError } from '../../errors/gateway-error.js';
import type { GatewayEnv } from '../../http/context.js';

/** An encoded slash or backslash, which some proxies decode into a separator and others do not. */
const ENCODED_SEPARATOR = /%2f|%5c/i;
/** The scheme and authority of an absolute-form request target (RFC 9112, section 3.2.2). */
const ABSOLUTE_FORM_PREFIX = /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*/i;

/** Returns the path of a request target as the client sent it, before any normalization. */
function rawPath(target: string): string {
  const path = target.replace(ABSOLUTE_FORM_PREFIX, '');
  const end = path.search(/[?#]/);
  return end === -1 ? path : path.slice(0, end);
}

/** Checks whether a raw path has a `.` or `..` segment (plain or percent-encoded, any case) or an encoded separator. */
export function isUnsafePath(path: string): boolean {
  // Most paths have neither a dot nor a percent sign, so they cannot hold a dot segment.
  if (!path.includes('.') && !path.includes('%')) return false;
  if (ENCODED_SEPARATOR.test(path)) return true;
  return path.split('/').some((segment) => {
    const decoded = segment.replace(/%2e/gi, '.');
    return decoded === '.' || decoded === '..';
  });
}

/**
 * Rejects a request whose path has dot segments or encoded slashes with 400, before routing.
 * The URL parser resolves `/v1/%2e%2e/metrics` to `/metrics`, so such a path reaches a route
 * that a proxy rule allowing only `/v1` meant to keep out. The check reads the request target
 * from the socket, because the URL that Hono receives is already normalized.
 */
export function rejectUnsafePaths(): MiddlewareHandler<GatewayEnv> {
  return async (c, next) => {
    const target = c.env?.incoming?.url ?? new URL(c.req.url).pathname;
    if (isUnsafePath(rawPath(target))) {
      throw new GatewayError(
        'bad_request',
        'the request path must not contain dot segments or encoded slashes',
      );
    }
    await next();
  };
}
