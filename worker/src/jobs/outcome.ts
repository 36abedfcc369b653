import type { TerminalOutcome } from '@medai-flow/common';
import { JobFailure, toJobError } from '../errors.js';
import { RunAborted } from '../inference/index.js';
import type { StopReason } from './active.js';

/**
 * Chooses the terminal outcome of a job that did not succeed, from the error it threw and the
 * reason it was stopped (if it was). `internal` is true when the error was unexpected, so its
 * message is kept out of the record.
 */
export function failureOutcome(
  error: unknown,
  stopReason: StopReason | undefined,
  inferenceTimeoutSeconds: number,
): { outcome: Exclude<TerminalOutcome, { status: 'succeeded' }>; internal: boolean } {
  if (stopReason === 'cancelled') {
    return {
      outcome: {
        status: 'cancelled',
        error: toJobError('job-cancelled', 'the job was cancelled while it was running'),
      },
      internal: false,
    };
  }
  if (stopReason === 'deadline') {
    return {
      outcome: {
        status: 'cancelled',
        error: toJobError('deadline-exceeded', 'the deadline passed while the job was running'),
      },
      internal: false,
    };
  }
  if (stopReason === 'timeout') {
    return {
      outcome: {
        status: 'failed',
        error: toJobError(
          'inference-failed',
          `the job did not finish within ${inferenceTimeoutSeconds} s (INFERENCE_TIMEOUT_SECONDS)`,
        ),
      },
      internal: false,
    };
  }
  if (error instanceof JobFailure) {
    return { outcome: { status: 'failed', error: toJobError(error.code, error.message) }, internal: false };
  }
  const detail =
    error instanceof RunAborted ? 'the job was stopped' : 'the worker failed while processing the job';
  return { outcome: { status: 'failed', error: toJobError('inference-failed', detail) }, internal: true };
}
