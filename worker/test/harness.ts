import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import {
  createLogger,
  createRedis,
  enqueueJob,
  type JobRecord,
  JobStore,
  openModelQueue,
  type Redis,
  RedisKeys,
  sha256Hex,
} from '@medai-flow/common';
import type { JobInput, Priority, QueueJobData } from '@medai-flow/contracts';
import type { Queue } from 'bullmq';
import sharp from 'sharp';
import { dataFiles, modelMirrorDir, modelRepositoryDir } from '../../test-support/paths.js';
import { deleteKeys, testRedisUrl, uniquePrefix } from '../../test-support/redis.js';
import { startWorkerService, type WorkerConfig, type WorkerService, workerEnvSchema } from '../dist/index.js';

/** Test settings: quick stalled-job takeover, one inference thread per process to share the two cores. */
export const fastLockEnv = {
  LOCK_DURATION_SECONDS: '2',
  STALLED_INTERVAL_SECONDS: '1',
};

/** Builds the test worker configuration under `prefix`, with `overrides` on top. */
export function workerConfig(prefix: string, overrides: Record<string, string> = {}): WorkerConfig {
  return workerEnvSchema.parse({
    REDIS_URL: testRedisUrl,
    REDIS_PREFIX: prefix,
    MODEL_REPOSITORY: modelRepositoryDir,
    MODEL_MIRROR_DIR: modelMirrorDir,
    METRICS_PORT: '0',
    METRICS_HOST: '127.0.0.1',
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    WORKER_MODELS: 'nuclei-unet',
    DRAIN_GRACE_SECONDS: '5',
    ...fastLockEnv,
    ...overrides,
  });
}

/** Starts the worker service in this process; stop it with `close()`. */
export async function startInProcess(
  prefix: string,
  overrides: Record<string, string> = {},
): Promise<WorkerService> {
  return startWorkerService(workerConfig(prefix, overrides), createLogger('worker-test', 'silent'));
}

/** A client of one test's key prefix: submits jobs as the gateway does and reads records. */
export class TestClient {
  readonly keys: RedisKeys;
  readonly redis: Redis;
  readonly store: JobStore;
  private readonly queues = new Map<string, Queue<QueueJobData>>();

  constructor(
    readonly prefix: string,
    readonly url = testRedisUrl,
  ) {
    this.keys = new RedisKeys(prefix);
    this.redis = createRedis(url, { role: 'worker' });
    // Tests that restart Redis see connection errors here; the commands wait for the reconnect.
    this.redis.on('error', () => undefined);
    this.store = new JobStore(this.redis, this.keys, { resultTtlSeconds: 600, goneTtlSeconds: 600 });
  }

  static create(name: string): TestClient {
    return new TestClient(uniquePrefix(name));
  }

  /** Submits a media file (PNG, NIfTI, DICOM ...) with `enqueueJob`, as the gateway does. */
  async submitMedia(
    model: string,
    mediaType: Extract<JobInput, { kind: 'media' }>['mediaType'],
    bytes: Uint8Array,
    options: { deadlineAt?: number; priority?: Priority; rawOutputs?: boolean } = {},
  ): Promise<string> {
    const input: JobInput = {
      kind: 'media',
      mediaType,
      byteLength: bytes.byteLength,
      sha256: sha256Hex(bytes),
    };
    return this.submit(model, input, bytes, options);
  }

  async submit(
    model: string,
    input: JobInput,
    bytes: Uint8Array,
    options: { deadlineAt?: number; priority?: Priority; rawOutputs?: boolean } = {},
  ): Promise<string> {
    const id = randomUUID();
    const createdAt = Date.now();
    const record: JobRecord = {
      id,
      model,
      owner: 'alice',
      status: 'queued',
      priority: options.priority ?? 'routine',
      requestId: `req-${id.slice(0, 8)}`,
      createdAt,
      inputSha256: input.sha256,
      ...(options.deadlineAt !== undefined ? { deadlineAt: options.deadlineAt } : {}),
    };
    const data: QueueJobData = {
      jobId: id,
      model,
      owner: 'alice',
      requestId: record.requestId,
      createdAt,
      rawOutputs: options.rawOutputs ?? false,
      input,
      ...(options.deadlineAt !== undefined ? { deadlineAt: options.deadlineAt } : {}),
    };
    await enqueueJob(this.queue(model), this.store, record, bytes, data);
    return id;
  }

  queue(model: string): Queue<QueueJobData> {
    let queue = this.queues.get(model);
    if (!queue) {
      queue = openModelQueue(model, this.redis, this.keys, (error) => {
        throw error;
      });
      this.queues.set(model, queue);
    }
    return queue;
  }

  /** Polls the record until it is terminal (or `status` when given). */
  async waitFor(id: string, status?: JobRecord['status'], timeoutMs = 30_000): Promise<JobRecord> {
    const deadline = Date.now() + timeoutMs;
    let record: JobRecord | null = null;
    while (Date.now() < deadline) {
      record = await this.store.get(id);
      if (record && (status ? record.status === status : !['queued', 'running'].includes(record.status)))
        return record;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(
      `job ${id} did not reach ${status ?? 'a terminal status'} within ${timeoutMs} ms; last: ${JSON.stringify(record)}`,
    );
  }

  async close(): Promise<void> {
    await Promise.all([...this.queues.values()].map((queue) => queue.close()));
    await this.redis.quit();
    await deleteKeys(this.url, this.prefix);
  }
}

export function readBytes(path: string): Uint8Array {
  return new Uint8Array(readFileSync(path));
}

/**
 * Scales the nuclei PNG to 2048x2048: 25 tiles of 512x512 take a few seconds on one thread,
 * long enough to kill or cancel a job while it runs.
 */
export async function largeNucleiPng(): Promise<Uint8Array> {
  const png = await sharp(dataFiles.nucleiPng).resize(2048, 2048).png().toBuffer();
  return new Uint8Array(png);
}

/** Environment of a worker process for `prefix`: nuclei-unet only, one thread, quick stalled-job takeover. */
export function workerProcessEnv(
  prefix: string,
  overrides: Record<string, string> = {},
): Record<string, string> {
  return {
    REDIS_URL: testRedisUrl,
    REDIS_PREFIX: prefix,
    WORKER_MODELS: 'nuclei-unet',
    INFERENCE_THREADS: '1',
    METRICS_HOST: '127.0.0.1',
    ...fastLockEnv,
    ...overrides,
  };
}

/** Reads one sample of the Prometheus text format, or undefined when the series is absent. */
export function metricValue(text: string, series: string): number | undefined {
  const line = text.split('\n').find((candidate) => candidate.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
