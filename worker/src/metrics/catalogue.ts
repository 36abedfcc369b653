import { Counter, Gauge, Histogram, Registry } from 'prom-client';

/** Queue states that `queue_depth` reports; waiting + prioritized + active is what autoscaling follows. */
export const QUEUE_DEPTH_STATES = ['waiting', 'prioritized', 'active'] as const;
export type QueueDepthState = (typeof QUEUE_DEPTH_STATES)[number];

/** Outcomes of `jobs_processed_total`: the terminal status this worker gave the job. */
export type JobOutcome = 'succeeded' | 'failed' | 'cancelled' | 'expired';

/** Reads the current queue depth of every served model, for `queue_depth` at scrape time. */
export type QueueDepthSource = () => Promise<{ model: string; state: QueueDepthState; count: number }[]>;

/**
 * The worker's metrics, in their own registry. Labels are model names, outcomes and queue
 * states only; never a job id, subject or address.
 */
export class WorkerMetrics {
  readonly registry = new Registry();

  readonly jobsProcessed = new Counter({
    name: 'jobs_processed_total',
    help: 'Jobs this worker ended, by model and terminal status.',
    labelNames: ['model', 'outcome'] as const,
    registers: [this.registry],
  });

  readonly inferenceDuration = new Histogram({
    name: 'inference_duration_seconds',
    help: 'Time in onnxruntime per job (all runs of its tiles), by model.',
    labelNames: ['model'] as const,
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [this.registry],
  });

  readonly queueWait = new Histogram({
    name: 'job_queue_wait_seconds',
    help: 'Time from submission to the start of processing, by model.',
    labelNames: ['model'] as const,
    buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 900, 3600],
    registers: [this.registry],
  });

  readonly batchSize = new Histogram({
    name: 'inference_batch_size',
    help: 'Items per onnxruntime run, by model.',
    labelNames: ['model'] as const,
    buckets: [1, 2, 4, 8, 16, 32],
    registers: [this.registry],
  });

  readonly queueDepth: Gauge<'model' | 'state'>;

  /** `depth` is read on every scrape; when it fails, the scrape has no `queue_depth` series. */
  constructor(depth: QueueDepthSource, onDepthError: (error: unknown) => void) {
    this.queueDepth = new Gauge({
      name: 'queue_depth',
      help: 'Jobs in the model queue, by state (waiting, prioritized, active).',
      labelNames: ['model', 'state'] as const,
      registers: [this.registry],
      async collect() {
        this.reset();
        try {
          for (const { model, state, count } of await depth()) this.set({ model, state }, count);
        } catch (error) {
          onDepthError(error);
        }
      },
    });
  }
}
