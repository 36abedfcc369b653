import type { Context } from 'hono';
import { GatewayError } from '../../errors/gateway-error.js';
import type { GatewayEnv } from '../../http/context.js';

/** An encoded slash or backslash, which some proxies decode into a separator and others do not. */
const ENCODED_SEPARATOR = /%2f|%5c/i;
/**
 * An encoded unreserved character (letter, digit, `-`, `.`, `_`, `~`). By RFC 3986 section
 * 2.3, producers should not encode them, and the router decodes them, so `/%6detrics` would
 * reach `/metrics` past a proxy rule that matches the text `/metrics`.
 */
const ENCODED_UNRESERVED = /%(?:3[0-9]|4[1-9a-f]|5[0-9a]|6[1-9a-f]|7[0-9a]|2d|2e|5f|7e)/i;
/** An absolute-form request target with a non-empty authority (RFC 9112, section 3.2.2). */
const ABSOLUTE_FORM_WITH_AUTHORITY = /^[a-z][a-z0-9+.-]*:\/\/[^/?#]+/i;
/** The scheme and authority of an absolute-form request target (RFC 9112, section 3.2.2). */
const ABSOLUTE_FORM_PREFIX = /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*/i;

/** Returns the path of a request target as the client sent it, before any normalization. */
function rawPath(target: string): string {
  const path = target.replace(ABSOLUTE_FORM_PREFIX, '');
  const end = path.search(/[?#]/);
  return end === -1 ? path : path.slice(0, end);
}

/**
 * Checks whether a raw path has a `.` or `..` segment (plain or percent-encoded, any case), an
 * encoded separator or an encoded unreserved character.
 */
export function isUnsafePath(path: string): boolean {
  if (ENCODED_SEPARATOR.test(path) || ENCODED_UNRESERVED.test(path)) return true;
  return path.split('/').some((segment) => {
    const decoded = segment.replace(/%2e/gi, '.');
    return decoded === '.' || decoded === '..';
  });
}

/**
 * Checks whether the request target has dot segments, encoded slashes or encoded unreserved
 * characters, or is an absolute form without an authority. The URL parser
 * resolves `/v1/%2e%2e/metrics` to `/metrics`, so such a path reaches a route that a proxy
 * rule allowing only `/v1` meant to keep out. The check reads the request target from the
 * socket, because the URL that Hono receives is already normalized.
 */
export function hasUnsafePath(c: Context<GatewayEnv>): boolean {
  const target = c.env?.incoming?.url ?? new URL(c.req.url).pathname;
  // An absolute-form target without an authority (`http:///v1/metrics`) is read by the URL
  // parser as host `v1` and path `/metrics`, so it is rejected rather than guessed at.
  if (!target.startsWith('/') && !ABSOLUTE_FORM_WITH_AUTHORITY.test(target)) return true;
  // Most targets have neither a dot nor a percent sign, so they cannot hold a dot segment.
  if (!target.includes('.') && !target.includes('%')) return false;
  return isUnsafePath(rawPath(target));
}

/** Builds the 400 error of a request whose path `hasUnsafePath` rejects. */
export function unsafePathError(): GatewayError {
  return new GatewayError(
    'bad_request',
    'the request path must not contain dot segments, encoded slashes or encoded letters, digits or -._~',
  );
}
