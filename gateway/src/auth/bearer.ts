import { GatewayError } from '../errors/gateway-error.js';

/** Longest bearer token accepted, in characters; the header size limit caps it too. */
export const MAX_TOKEN_LENGTH = 8_192;

/** RFC 6750 section 2.1: `b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="`. */
const BEARER_CREDENTIALS = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;
const BEARER_SCHEME = /^Bearer(?: |$)/i;

function tooLong(): GatewayError {
  return new GatewayError(
    'credentials_malformed',
    `the Bearer token is longer than ${MAX_TOKEN_LENGTH} characters`,
    {
      reason: 'malformed',
    },
  );
}

/**
 * Extracts the token from an `Authorization` header. A missing header or another scheme is
 * `credentials_missing` (a bare challenge); a malformed Bearer value is `credentials_malformed`.
 */
export function bearerToken(header: string | undefined): string {
  if (header === undefined || !BEARER_SCHEME.test(header)) {
    throw new GatewayError('credentials_missing', 'a Bearer token is required', { reason: 'missing' });
  }
  // Checked on the header first, so that the pattern never scans an oversized value.
  if (header.length > MAX_TOKEN_LENGTH + 16) throw tooLong();
  const match = BEARER_CREDENTIALS.exec(header);
  if (!match?.[1]) {
    throw new GatewayError(
      'credentials_malformed',
      'the Authorization header is not a valid Bearer credential',
      {
        reason: 'malformed',
      },
    );
  }
  if (match[1].length > MAX_TOKEN_LENGTH) throw tooLong();
  return match[1];
}
