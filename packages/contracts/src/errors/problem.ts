/**
 * Problem types of the HTTP API (RFC 9457). The `type` URI is `PROBLEM_TYPE_BASE` + code;
 * clients branch on it, never on `title` or `detail`.
 */
export const PROBLEM_TYPE_BASE = 'https://medai-flow.dev/problems/';

export const PROBLEM_CODES = {
  'bad-request': { status: 400, title: 'Bad request' },
  'invalid-json': { status: 400, title: 'Malformed JSON body' },
  unauthorized: { status: 401, title: 'Unauthorized' },
  forbidden: { status: 403, title: 'Forbidden' },
  'not-found': { status: 404, title: 'Not found' },
  'model-not-found': { status: 404, title: 'Model not found' },
  'job-not-found': { status: 404, title: 'Job not found' },
  /** The v2 model-ready response for a published model that no live worker serves (the v2 protocol uses a 4xx for false). */
  'model-not-ready': { status: 400, title: 'Model not ready' },
  'method-not-allowed': { status: 405, title: 'Method not allowed' },
  'request-timeout': { status: 408, title: 'Request timeout' },
  conflict: { status: 409, title: 'Conflict' },
  'job-finished': { status: 409, title: 'Job has already finished' },
  'idempotency-in-progress': { status: 409, title: 'A request with this Idempotency-Key is in progress' },
  gone: { status: 410, title: 'Job result has expired' },
  'payload-too-large': { status: 413, title: 'Request body too large' },
  'unsupported-media-type': { status: 415, title: 'Unsupported media type' },
  'invalid-input': { status: 422, title: 'Invalid input' },
  'idempotency-key-reused': { status: 422, title: 'Idempotency-Key reused with another body' },
  'rate-limited': { status: 429, title: 'Too many requests' },
  /** A subject has as many unfinished jobs, or as many input bytes in them, as it may have. */
  'quota-exceeded': { status: 429, title: 'Job quota exceeded' },
  'header-too-large': { status: 431, title: 'Request header fields too large' },
  'internal-error': { status: 500, title: 'Internal server error' },
  'service-unavailable': { status: 503, title: 'Service unavailable' },
  'queue-full': { status: 503, title: 'Model queue is full' },
  'inference-failed': { status: 500, title: 'Inference failed' },
  'deadline-exceeded': { status: 504, title: 'Deadline exceeded' },
  'worker-lost': { status: 500, title: 'Worker lost the job too often' },
  /** The `error` of a job cancelled on request; also the v2 inference response for such a job. */
  'job-cancelled': { status: 409, title: 'Job was cancelled' },
} as const satisfies Record<string, { status: number; title: string }>;

export type ProblemCode = keyof typeof PROBLEM_CODES;

/** RFC 9457 problem details, as every error response carries them. */
export interface ProblemDetails {
  type: string;
  title: string;
  status: number;
  detail: string;
  requestId: string;
  /** Extension members, for example `expected` and `received` on a wrong tensor shape. */
  [extension: string]: unknown;
}

export function problemType(code: ProblemCode): string {
  return PROBLEM_TYPE_BASE + code;
}
