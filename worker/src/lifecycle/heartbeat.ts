import type { Logger, ModelRegistry } from '@medai-flow/common';
import type { ModelRuntime } from '../models/index.js';

/**
 * Publishes the served models with a heartbeat every `intervalMs`, so gateways list them
 * and count this worker as live. A failed publish is logged once until one succeeds again.
 */
export class Heartbeat {
  private timer: NodeJS.Timeout | undefined;
  private failing = false;

  constructor(
    private readonly registry: ModelRegistry,
    private readonly runtimes: readonly ModelRuntime[],
    private readonly workerId: string,
    private readonly logger: Logger,
  ) {}

  /** Publishes once (rejecting when Redis is unreachable), then keeps publishing on a timer. */
  async start(intervalMs: number): Promise<void> {
    await this.publish();
    this.timer = setInterval(() => void this.beat(), intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Removes this worker's heartbeat from every served model. */
  async withdraw(): Promise<void> {
    this.stop();
    await Promise.all(
      this.runtimes.map(({ manifest }) => this.registry.withdraw(manifest.name, this.workerId)),
    );
  }

  private async publish(): Promise<void> {
    for (const { manifest, sha256 } of this.runtimes) {
      await this.registry.publish({ ...manifest, sha256 }, this.workerId);
    }
  }

  private async beat(): Promise<void> {
    try {
      await this.publish();
      if (this.failing) this.logger.info('heartbeat resumed');
      this.failing = false;
    } catch (error) {
      if (!this.failing) this.logger.warn({ err: error }, 'heartbeat failed');
      this.failing = true;
    }
  }
}
