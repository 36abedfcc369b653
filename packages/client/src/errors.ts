import type { ProblemDetails } from '@medai-flow/contracts';

/** The API answered with an error status; `problem` holds its RFC 9457 body when there was one. */
export class ApiError extends Error {
  override readonly name = 'ApiError';

  constructor(
    readonly status: number,
    readonly problem: ProblemDetails | undefined,
    readonly requestId: string | undefined,
  ) {
    super(
      problem ? `${status} ${problem.title}: ${problem.detail}` : `request failed with HTTP status ${status}`,
    );
  }

  /** The problem type's last path segment (`model-not-found`, `invalid-input`...), or undefined. */
  get code(): string | undefined {
    return this.problem?.type.split('/').pop();
  }
}

/** A job did not end within the time the caller allowed. */
export class WaitTimeoutError extends Error {
  override readonly name = 'WaitTimeoutError';

  constructor(
    readonly jobId: string,
    readonly timeoutMs: number,
  ) {
    super(`job ${jobId} did not end within ${timeoutMs} ms`);
  }
}
