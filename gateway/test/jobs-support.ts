import { readFileSync } from 'node:fs';
import type { JobRepresentation } from '@medai-flow/contracts';
import { expect } from 'vitest';
import { dataFiles } from '../../test-support/paths.js';
import { type ServiceProcess, startWorker } from '../../test-support/processes.js';
import { testRedisUrl } from '../../test-support/redis.js';
import { bearer, type TestGateway } from './support.js';

/** The nuclei test image: a small PNG that nuclei-unet runs in about 150 ms. */
export const nucleiPng = new Uint8Array(readFileSync(dataFiles.nucleiPng));

/** The conformed T1 MRI volume: brain-gwm runs it in about 6 s and 2.4 GB. */
export const mriVolume = (): Uint8Array => new Uint8Array(readFileSync(dataFiles.mriVolume));

/**
 * Starts a worker process on the test Redis under `prefix`, serving `models` with one
 * inference thread, so that two test files can run side by side on two cores.
 */
export function startTestWorker(prefix: string, models: string): Promise<ServiceProcess> {
  return startWorker({
    REDIS_URL: testRedisUrl,
    REDIS_PREFIX: prefix,
    WORKER_MODELS: models,
    INFERENCE_THREADS: '1',
    METRICS_HOST: '127.0.0.1',
    DRAIN_GRACE_SECONDS: '2',
  });
}

/** Submits `body` to `model`; `query` starts with `?` when given. */
export function submitJob(
  gateway: TestGateway,
  token: string,
  model: string,
  body: Uint8Array,
  options: { contentType?: string; query?: string; headers?: Record<string, string> } = {},
): Promise<Response> {
  return gateway.request(`/v1/models/${model}/jobs${options.query ?? ''}`, {
    method: 'POST',
    headers: { ...bearer(token), 'content-type': options.contentType ?? 'image/png', ...options.headers },
    body,
  });
}

/** Posts a v2 inference request `body` for nuclei-unet with `Prefer: respond-async`. */
export function inferAsync(gateway: TestGateway, token: string, body: string): Promise<Response> {
  return gateway.request('/v2/models/nuclei-unet/infer', {
    method: 'POST',
    headers: { ...bearer(token), 'content-type': 'application/json', prefer: 'respond-async' },
    body,
  });
}

/** Submits and expects 202; returns the job representation. */
export async function submitAccepted(
  gateway: TestGateway,
  token: string,
  model: string,
  body: Uint8Array,
  options: { contentType?: string; query?: string; headers?: Record<string, string> } = {},
): Promise<JobRepresentation> {
  const response = await submitJob(gateway, token, model, body, options);
  expect(response.status, await response.clone().text()).toBe(202);
  return (await response.json()) as JobRepresentation;
}

export async function getJob(
  gateway: TestGateway,
  token: string,
  id: string,
  headers: Record<string, string> = {},
): Promise<Response> {
  return gateway.request(`/v1/jobs/${id}`, { headers: { ...bearer(token), ...headers } });
}

/** Reads the job over GET until `done` holds for it, or fails after `timeoutMs`. */
export async function pollJob(
  gateway: TestGateway,
  token: string,
  id: string,
  done: (job: JobRepresentation) => boolean,
  timeoutMs = 30_000,
): Promise<JobRepresentation> {
  const until = Date.now() + timeoutMs;
  let last: JobRepresentation | undefined;
  while (Date.now() < until) {
    const response = await getJob(gateway, token, id);
    expect(response.status).toBe(200);
    last = (await response.json()) as JobRepresentation;
    if (done(last)) return last;
    await sleep(50);
  }
  throw new Error(
    `job ${id} did not reach the expected state within ${timeoutMs} ms; last: ${JSON.stringify(last)}`,
  );
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
