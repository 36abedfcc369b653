import { PROBLEM_CODES, type ProblemCode, type ProblemDetails, problemType } from '@medai-flow/contracts';
import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { GatewayError, type GatewayErrorCode } from '../errors/gateway-error.js';

/** Realm of every `WWW-Authenticate: Bearer` challenge. */
export const AUTH_REALM = 'medai-flow';

/** RFC 6750 section 3.1 error codes. */
type BearerErrorCode = 'invalid_request' | 'invalid_token' | 'insufficient_scope';

interface ProblemMapping {
  problem: ProblemCode;
  /** `null`: a challenge without an error attribute (no credentials came); absent: no challenge. */
  bearerError?: BearerErrorCode | null;
}

/** A problem response as status, headers and body, for Hono and for raw sockets alike. */
export interface ProblemParts {
  status: number;
  headers: Record<string, string>;
  body: string;
}

function mapCode(code: GatewayErrorCode): ProblemMapping {
  switch (code) {
    case 'credentials_missing':
      return { problem: 'unauthorized', bearerError: null };
    case 'credentials_malformed':
      return { problem: 'bad-request', bearerError: 'invalid_request' };
    case 'token_invalid':
    case 'token_expired':
    case 'token_revoked':
      return { problem: 'unauthorized', bearerError: 'invalid_token' };
    case 'insufficient_scope':
      return { problem: 'forbidden', bearerError: 'insufficient_scope' };
    case 'key_source_unavailable':
    case 'redis_unavailable':
      return { problem: 'service-unavailable' };
    case 'rate_limited':
      return { problem: 'rate-limited' };
    case 'route_not_found':
      return { problem: 'not-found' };
    case 'method_not_allowed':
      return { problem: 'method-not-allowed' };
    case 'request_timeout':
      return { problem: 'request-timeout' };
    case 'header_too_large':
      return { problem: 'header-too-large' };
    case 'model_not_found':
      return { problem: 'model-not-found' };
    case 'model_not_ready':
      return { problem: 'model-not-ready' };
    case 'job_not_found':
      return { problem: 'job-not-found' };
    case 'job_gone':
      return { problem: 'gone' };
    case 'job_finished':
      return { problem: 'job-finished' };
    case 'idempotency_in_progress':
      return { problem: 'idempotency-in-progress' };
    case 'idempotency_key_reused':
      return { problem: 'idempotency-key-reused' };
    case 'queue_full':
      return { problem: 'queue-full' };
    case 'quota_exceeded':
      return { problem: 'quota-exceeded' };
    case 'inference_failed':
      return { problem: 'inference-failed' };
    case 'deadline_exceeded':
      return { problem: 'deadline-exceeded' };
    case 'worker_lost':
      return { problem: 'worker-lost' };
    case 'job_cancelled':
      return { problem: 'job-cancelled' };
    case 'unsupported_media_type':
      return { problem: 'unsupported-media-type' };
    case 'payload_too_large':
      return { problem: 'payload-too-large' };
    case 'invalid_json':
      return { problem: 'invalid-json' };
    case 'bad_request':
      return { problem: 'bad-request' };
    case 'invalid_input':
      return { problem: 'invalid-input' };
    default:
      return assertNever(code);
  }
}

function assertNever(value: never): never {
  throw new TypeError(`unmapped gateway error code ${String(value)}`);
}

/**
 * Quoted-string content of a challenge attribute. RFC 6750 allows only %x20-21, %x23-5B and
 * %x5D-7E in `error_description`, so quotes, backslashes and non-ASCII are replaced.
 */
function challengeValue(text: string): string {
  return text.replace(/[^\x20-\x21\x23-\x5b\x5d-\x7e]/g, '?');
}

function bearerChallenge(error: GatewayError, bearerError: BearerErrorCode | null): string {
  const parts = [`Bearer realm="${AUTH_REALM}"`];
  if (bearerError !== null) {
    parts.push(`error="${bearerError}"`, `error_description="${challengeValue(error.detail)}"`);
  }
  if (error.requiredScope !== undefined) parts.push(`scope="${challengeValue(error.requiredScope)}"`);
  return parts.join(', ');
}

/** Builds the one RFC 9457 problem response the gateway sends for `error`. */
export function buildProblem(error: GatewayError, requestId: string): ProblemParts {
  const mapping = mapCode(error.code);
  const { status, title } = PROBLEM_CODES[mapping.problem];
  const details: ProblemDetails = {
    ...error.extensions,
    type: problemType(mapping.problem),
    title,
    status,
    detail: error.detail,
    requestId,
  };
  const headers: Record<string, string> = { 'content-type': 'application/problem+json' };
  if (mapping.bearerError !== undefined) {
    headers['www-authenticate'] = bearerChallenge(error, mapping.bearerError);
  }
  if (error.retryAfterSeconds !== undefined) {
    headers['retry-after'] = String(Math.max(1, Math.ceil(error.retryAfterSeconds)));
  }
  return { status, headers, body: JSON.stringify(details) };
}

/** Builds the 500 response for an error that is not a `GatewayError`. Its message stays in the log. */
export function buildInternalProblem(requestId: string): ProblemParts {
  const { status, title } = PROBLEM_CODES['internal-error'];
  const details: ProblemDetails = {
    type: problemType('internal-error'),
    title,
    status,
    detail: 'the request failed inside the gateway; quote the requestId when reporting it',
    requestId,
  };
  return { status, headers: { 'content-type': 'application/problem+json' }, body: JSON.stringify(details) };
}

/** Turns any thrown value into problem parts; only `GatewayError` details reach the client. */
export function problemFor(error: unknown, requestId: string): ProblemParts {
  return error instanceof GatewayError ? buildProblem(error, requestId) : buildInternalProblem(requestId);
}

/**
 * Builds the problem response through `c`, so that headers middleware set before the failure
 * (request id, security headers, rate-limit state) are kept.
 */
export function problemResponse(c: Context, parts: ProblemParts): Response {
  return c.body(parts.body, parts.status as ContentfulStatusCode, parts.headers);
}

/**
 * Builds the problem as a standalone response with only the problem's own headers. Prefer
 * `problemResponse`, unless Hono merges the response into an existing `c.res`.
 */
export function toResponse(parts: ProblemParts): Response {
  return new Response(parts.body, { status: parts.status, headers: parts.headers });
}
