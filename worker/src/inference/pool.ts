import { EventEmitter } from 'node:events';
import { InferenceProcess, type RunRequest, type RunResult, type SessionSignature } from './process.js';

/** Pause before another attempt to replace an inference process that failed to start, in milliseconds. */
export const REPLACE_RETRY_DELAY_MS = 5_000;

export interface InferencePoolOptions {
  modelPath: string;
  intraOpThreads: number;
  size: number;
}

/** Events of a pool, for the entry point to log; the pool itself never logs. */
export interface InferencePoolEvents {
  /** `stopping` is true when the pool itself stopped the process (on close). */
  'process-exited': [
    { pid: number; exitCode: number | null; signal: NodeJS.Signals | null; busy: boolean; stopping: boolean },
  ];
  'process-replaced': [{ pid: number }];
  'replace-failed': [Error];
}

/** The run was stopped by its abort signal; `reason` is the signal's reason. */
export class RunAborted extends Error {
  override readonly name = 'RunAborted';
  constructor(readonly reason: unknown) {
    super('inference run aborted');
  }
}

/**
 * A fixed number of inference processes for one model. A process that exits or is killed
 * (to cancel its run) is dropped and never returns to the idle list. A new one is started in
 * its place.
 */
export class InferencePool extends EventEmitter<InferencePoolEvents> {
  private readonly idle: InferenceProcess[] = [];
  private readonly busy = new Set<InferenceProcess>();
  private readonly waiters: ((process: InferenceProcess) => void)[] = [];
  private closing: Promise<void> | undefined;

  private constructor(private readonly options: InferencePoolOptions) {
    super();
  }

  /** Starts every process; when one fails to load, stops the others and rethrows. */
  static async start(
    options: InferencePoolOptions,
  ): Promise<{ pool: InferencePool; signature: SessionSignature }> {
    const pool = new InferencePool(options);
    const started = await Promise.allSettled(
      Array.from({ length: options.size }, () =>
        InferenceProcess.start(options.modelPath, options.intraOpThreads),
      ),
    );
    const failure = started.find((outcome) => outcome.status === 'rejected');
    const processes = started.flatMap((outcome) => (outcome.status === 'fulfilled' ? [outcome.value] : []));
    if (failure || processes.length === 0) {
      await Promise.all(processes.map(({ process }) => process.stop()));
      throw failure?.reason ?? new Error('no inference process started');
    }
    for (const { process } of processes) pool.adopt(process);
    return { pool, signature: (processes[0] as (typeof processes)[0]).signature };
  }

  /** Processes that are alive, idle or running. */
  get liveCount(): number {
    return this.idle.length + this.busy.size;
  }

  /** Process ids, for operators and tests. */
  get pids(): number[] {
    return [...this.idle, ...this.busy].map((process) => process.pid);
  }

  /**
   * Runs a request on a free process. When `signal` aborts, the process is killed at once
   * (onnxruntime cannot interrupt a run) and the call rejects with `RunAborted`.
   */
  async run(request: RunRequest, signal?: AbortSignal): Promise<RunResult> {
    signal?.throwIfAborted();
    const process = await this.acquire();
    this.busy.add(process);
    const onAbort = () => void process.stop('SIGKILL');
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      return await process.run(request);
    } catch (error) {
      if (signal?.aborted) throw new RunAborted(signal.reason);
      throw error;
    } finally {
      signal?.removeEventListener('abort', onAbort);
      this.busy.delete(process);
      if (process.alive) this.release(process);
    }
  }

  /** Stops every process; later calls return the same promise. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      const all = [...this.idle, ...this.busy];
      this.idle.length = 0;
      await Promise.all(all.map((process) => process.stop()));
    })();
    return this.closing;
  }

  private adopt(process: InferenceProcess): void {
    void process.exited.then((exit) => {
      const wasIdle = this.idle.indexOf(process);
      if (wasIdle >= 0) this.idle.splice(wasIdle, 1);
      this.emit('process-exited', {
        pid: process.pid,
        exitCode: exit.exitCode,
        signal: exit.signal,
        busy: this.busy.has(process),
        stopping: this.closing !== undefined,
      });
      if (!this.closing) void this.replace();
    });
    this.release(process);
  }

  private release(process: InferenceProcess): void {
    const waiter = this.waiters.shift();
    if (waiter) waiter(process);
    else this.idle.push(process);
  }

  private acquire(): Promise<InferenceProcess> {
    if (this.closing) return Promise.reject(new Error('inference pool is closed'));
    const process = this.idle.pop();
    if (process) return Promise.resolve(process);
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  private async replace(): Promise<void> {
    while (!this.closing) {
      try {
        const { process } = await InferenceProcess.start(this.options.modelPath, this.options.intraOpThreads);
        if (this.closing) {
          await process.stop();
          return;
        }
        this.adopt(process);
        this.emit('process-replaced', { pid: process.pid });
        return;
      } catch (error) {
        this.emit('replace-failed', error instanceof Error ? error : new Error(String(error)));
        await new Promise((resolveDelay) => setTimeout(resolveDelay, REPLACE_RETRY_DELAY_MS));
      }
    }
  }
}
