import type { JobStore, Logger, TerminalOutcome } from '@medai-flow/common';

/** First pause before a failed `JobStore.finish` is tried again, in milliseconds; it doubles each time. */
export const FINISH_RETRY_FIRST_DELAY_MS = 250;
/** Maximum pause between two tries, in milliseconds. */
export const FINISH_RETRY_MAX_DELAY_MS = 30_000;
/** Time after the first failure beyond which no new try starts, in milliseconds (5 minutes). */
export const FINISH_RETRY_TOTAL_MS = 300_000;

/**
 * The job's end could not be written to Redis within `FINISH_RETRY_TOTAL_MS`. The processor
 * rethrows it so that BullMQ fails the job instead of removing it as completed. The `failed`
 * handler then ends the record. While Redis still rejects writes, the job stays active instead,
 * and the stalled-job check hands it to a worker again.
 */
export class FinishFailed extends Error {
  override readonly name = 'FinishFailed';
}

export interface FinishRequest {
  store: JobStore;
  jobId: string;
  outcome: TerminalOutcome;
  now: number;
  onlyFrom?: 'queued' | 'running';
  logger: Logger;
}

/**
 * Calls `JobStore.finish` and retries it with exponential backoff while Redis rejects it (for
 * example OOM under `maxmemory-policy noeviction`), logging each retry once with the error
 * message only, never the result. Throws `FinishFailed` once `FINISH_RETRY_TOTAL_MS` has passed.
 * NOTE: a try whose reply was lost may have ended the job. The next try then returns false, so
 * the caller neither counts nor audits that end.
 */
export async function finishWithRetry(request: FinishRequest): Promise<boolean> {
  const { store, jobId, outcome, now, onlyFrom, logger } = request;
  const started = performance.now();
  let delayMs = FINISH_RETRY_FIRST_DELAY_MS;
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await store.finish(jobId, outcome, now, onlyFrom);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      if (performance.now() - started + delayMs > FINISH_RETRY_TOTAL_MS) {
        logger.error({ attempt, reason }, 'job finish failed');
        throw new FinishFailed(
          `the worker could not record the end of the job in Redis within ${FINISH_RETRY_TOTAL_MS / 1000} s: ${reason}`,
          { cause: error },
        );
      }
      logger.warn({ attempt, retryInMs: delayMs, reason }, 'job finish failed, retrying');
      await new Promise((resolveWait) => setTimeout(resolveWait, delayMs));
      delayMs = Math.min(delayMs * 2, FINISH_RETRY_MAX_DELAY_MS);
    }
  }
}
