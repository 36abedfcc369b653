import type { JobRecord, Logger, Redis } from '@medai-flow/common';
import { isTerminal } from '@medai-flow/contracts';

export interface JobEndWaiterOptions {
  /** Channel on which the job store announces every job end (message: the job id). */
  channel: string;
  /** Interval at which a waiting request reads its job again, in milliseconds. */
  pollMs: number;
  /** Maximum wait for the subscription before the first read, in milliseconds. */
  subscribeTimeoutMs: number;
}

/**
 * Holds requests until their job ends. One subscriber connection per process, opened on the
 * first wait, receives the job-ended announcements and wakes the requests waiting for that
 * job. A request also reads its job again every `pollMs`, because pub/sub drops messages
 * while the subscriber reconnects. `close()` wakes every waiting request at once, so waiting
 * requests never hold up shutdown.
 */
export class JobEndWaiter {
  private subscriber: Redis | undefined;
  private subscribed: Promise<void> | undefined;
  private readonly wakers = new Map<string, Set<() => void>>();
  private closed = false;

  constructor(
    private readonly redis: Redis,
    private readonly logger: Logger,
    private readonly options: JobEndWaiterOptions,
  ) {}

  /**
   * Reads the job with `read` until it has ended, `timeoutMs` has passed or the waiter
   * closes, and returns the last record read.
   */
  async waitForEnd(jobId: string, timeoutMs: number, read: () => Promise<JobRecord>): Promise<JobRecord> {
    const until = performance.now() + timeoutMs;
    await this.subscribe();
    for (;;) {
      // The waker is registered before the read, so an end announced between the read and
      // the sleep still wakes this request.
      const wake = this.registerWaker(jobId);
      try {
        const record = await read();
        const remaining = until - performance.now();
        if (isTerminal(record.status) || this.closed || remaining <= 0) return record;
        await wake.sleep(Math.min(remaining, this.options.pollMs));
      } finally {
        wake.cancel();
      }
    }
  }

  /** Wakes every waiting request and closes the subscriber connection; idempotent. */
  close(): void {
    this.closed = true;
    for (const wakers of this.wakers.values()) for (const wake of wakers) wake();
    this.wakers.clear();
    this.subscriber?.disconnect();
    this.subscriber = undefined;
  }

  private async subscribe(): Promise<void> {
    if (this.closed) return;
    if (this.subscribed === undefined) {
      // The producer connection fails fast without an offline queue; the subscriber instead
      // waits for reconnects, and ioredis subscribes again after each one.
      const subscriber = this.redis.duplicate({
        enableOfflineQueue: true,
        maxRetriesPerRequest: null,
        commandTimeout: undefined,
        connectionName: 'medai-gateway-job-ended',
      });
      // The main connection to the same server logs connection errors.
      subscriber.on('error', () => undefined);
      subscriber.on('message', (channel: string, jobId: string) => {
        if (channel === this.options.channel) this.wake(jobId);
      });
      this.subscriber = subscriber;
      this.subscribed = subscriber.subscribe(this.options.channel).then(
        () => undefined,
        (error: unknown) => {
          if (!this.closed) this.logger.warn({ err: error }, 'job-ended subscription failed');
          this.subscribed = undefined;
          subscriber.disconnect();
        },
      );
    }
    // The poll covers a subscription that is slow to start, so a request waits at most
    // `subscribeTimeoutMs` for it.
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolveTimeout) => {
      timer = setTimeout(resolveTimeout, this.options.subscribeTimeoutMs);
    });
    await Promise.race([this.subscribed, timeout]);
    clearTimeout(timer);
  }

  private wake(jobId: string): void {
    const wakers = this.wakers.get(jobId);
    if (!wakers) return;
    this.wakers.delete(jobId);
    for (const wake of wakers) wake();
  }

  private registerWaker(jobId: string): { sleep(ms: number): Promise<void>; cancel(): void } {
    let woken = false;
    let resolveSleep: (() => void) | undefined;
    const waker = () => {
      woken = true;
      resolveSleep?.();
    };
    let wakers = this.wakers.get(jobId);
    if (!wakers) {
      wakers = new Set();
      this.wakers.set(jobId, wakers);
    }
    wakers.add(waker);
    let timer: NodeJS.Timeout | undefined;
    return {
      sleep: (ms) => {
        if (woken || this.closed) return Promise.resolve();
        return new Promise<void>((resolve) => {
          resolveSleep = resolve;
          timer = setTimeout(resolve, ms);
          timer.unref();
        });
      },
      cancel: () => {
        clearTimeout(timer);
        const current = this.wakers.get(jobId);
        current?.delete(waker);
        if (current?.size === 0) this.wakers.delete(jobId);
      },
    };
  }
}
