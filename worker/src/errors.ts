import { type JobError, PROBLEM_CODES, type ProblemCode, problemType } from '@medai-flow/contracts';

/** Reason a model could not be loaded at start-up. */
export type ModelLoadErrorCode =
  | 'manifest-invalid'
  | 'model-file-missing'
  | 'checksum-mismatch'
  | 'download-failed'
  | 'session-failed'
  | 'session-mismatch';

/** A model of the repository cannot be served; start-up stops with this error. */
export class ModelLoadError extends Error {
  override readonly name = 'ModelLoadError';
  constructor(
    readonly code: ModelLoadErrorCode,
    readonly model: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Problem codes a job can fail with; they become the `type` of the record's `error`. */
export type JobFailureCode = Extract<
  ProblemCode,
  'invalid-input' | 'unsupported-media-type' | 'inference-failed' | 'worker-lost'
>;

/** A job cannot succeed: its input is invalid or its inference failed. Ends the job `failed`. */
export class JobFailure extends Error {
  override readonly name = 'JobFailure';
  constructor(
    readonly code: JobFailureCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Builds the record's `error` from a problem code and a detail safe to show the job's owner. */
export function toJobError(code: ProblemCode, detail: string): JobError {
  return { type: problemType(code), title: PROBLEM_CODES[code].title, detail };
}
