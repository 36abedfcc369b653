/** Reason for stopping a running job before it ends by itself. */
export type StopReason = 'cancelled' | 'deadline' | 'timeout' | 'shutdown';

/**
 * The jobs this process is running, each with the abort controller that stops it. A
 * cancellation request for a job that runs elsewhere finds nothing here and is ignored.
 */
export class ActiveJobs {
  private readonly controllers = new Map<string, AbortController>();

  register(jobId: string): AbortController {
    const controller = new AbortController();
    this.controllers.set(jobId, controller);
    return controller;
  }

  unregister(jobId: string): void {
    this.controllers.delete(jobId);
  }

  /** Stops a running job; returns false when it does not run here. */
  stop(jobId: string, reason: StopReason): boolean {
    const controller = this.controllers.get(jobId);
    if (!controller) return false;
    controller.abort(reason);
    return true;
  }

  /** Stops every running job, for example when the drain grace period ends. */
  stopAll(reason: StopReason): number {
    for (const controller of this.controllers.values()) controller.abort(reason);
    return this.controllers.size;
  }

  get size(): number {
    return this.controllers.size;
  }
}
