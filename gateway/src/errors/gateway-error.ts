/**
 * Failures the gateway turns into responses. Callers branch on `code`, never on the message;
 * `http/problem.ts` maps each code to exactly one problem type and status.
 */
export type GatewayErrorCode =
  | 'credentials_missing'
  | 'credentials_malformed'
  | 'token_invalid'
  | 'token_expired'
  | 'token_revoked'
  | 'insufficient_scope'
  | 'key_source_unavailable'
  | 'rate_limited'
  | 'redis_unavailable'
  | 'route_not_found'
  | 'method_not_allowed'
  | 'request_timeout'
  | 'header_too_large'
  | 'model_not_found'
  | 'model_not_ready'
  | 'job_not_found'
  | 'job_gone'
  | 'job_finished'
  | 'idempotency_in_progress'
  | 'idempotency_key_reused'
  | 'queue_full'
  | 'quota_exceeded'
  | 'inference_failed'
  | 'deadline_exceeded'
  | 'worker_lost'
  | 'job_cancelled'
  | 'unsupported_media_type'
  | 'payload_too_large'
  | 'invalid_json'
  | 'bad_request'
  | 'invalid_input';

export interface GatewayErrorOptions {
  /** Problem extension members, for example `expected` and `received`. */
  extensions?: Record<string, unknown>;
  /** Seconds for `Retry-After` (429, 503). */
  retryAfterSeconds?: number;
  /** Permission named in the `insufficient_scope` challenge. */
  requiredScope?: string;
  /** Bounded label for `auth_failures_total{reason}`; never sent to the client. */
  reason?: string;
  cause?: unknown;
}

/**
 * A failure with a stable code and a `detail` that is safe to send to the client: it names
 * fields and values the client sent, never a token, a secret or an internal message.
 */
export class GatewayError extends Error {
  override readonly name = 'GatewayError';
  readonly extensions: Record<string, unknown> | undefined;
  readonly retryAfterSeconds: number | undefined;
  readonly requiredScope: string | undefined;
  readonly reason: string | undefined;

  constructor(
    readonly code: GatewayErrorCode,
    readonly detail: string,
    options: GatewayErrorOptions = {},
  ) {
    super(detail, options.cause === undefined ? undefined : { cause: options.cause });
    this.extensions = options.extensions;
    this.retryAfterSeconds = options.retryAfterSeconds;
    this.requiredScope = options.requiredScope;
    this.reason = options.reason;
  }
}
