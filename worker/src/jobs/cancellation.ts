import type { Logger, Redis, RedisKeys } from '@medai-flow/common';
import type { ActiveJobs } from './active.js';

/**
 * Listens on the cancel channel, where gateways publish the id of a running job to cancel.
 * Only the worker that runs the job acts on it; ioredis subscribes again after a reconnect.
 */
export class CancellationListener {
  private constructor(private readonly subscriber: Redis) {}

  static async start(
    connection: Redis,
    keys: RedisKeys,
    active: ActiveJobs,
    logger: Logger,
  ): Promise<CancellationListener> {
    const subscriber = connection.duplicate();
    // Connection errors are logged by the worker's main connection to the same server.
    subscriber.on('error', () => undefined);
    subscriber.on('message', (channel: string, jobId: string) => {
      if (channel !== keys.cancelChannel) return;
      if (active.stop(jobId, 'cancelled')) logger.info({ jobId }, 'job cancel requested');
    });
    await subscriber.subscribe(keys.cancelChannel);
    return new CancellationListener(subscriber);
  }

  async close(): Promise<void> {
    await this.subscriber.quit().catch(() => this.subscriber.disconnect());
  }
}
