import { ModelRegistry, RedisKeys } from '@medai-flow/common';
import type { JobRepresentation, V2InferenceResponse } from '@medai-flow/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type NpyArray, readNpy } from '../../test-support/npy.js';
import { dataFiles } from '../../test-support/paths.js';
import type { ServiceProcess } from '../../test-support/processes.js';
import { mintToken } from '../../test-support/tokens.js';
import { getJob, startTestWorker } from './jobs-support.js';
import { bearer, createTestGateway, problemOf, readManifest, type TestGateway } from './support.js';

const nucleiExpected = readNpy(dataFiles.nucleiExpectedNpy);
const nucleiInput = zscore(readNpy(dataFiles.nucleiInputNpy));

/**
 * Applies the manifest's z-score normalisation (epsilon 1e-6), which JSON tensors skip: the reference
 * probabilities were computed from the normalised input.
 */
function zscore(array: NpyArray): NpyArray {
  const values = array.data;
  const mean = values.reduce((sum, value) => sum + value, 0) / values.length;
  const variance = values.reduce((sum, value) => sum + (value - mean) ** 2, 0) / values.length;
  const std = Math.sqrt(variance);
  return { shape: array.shape, data: values.map((value) => (value - mean) / (std + 1e-6)) };
}

const sigmoid = (logit: number) => 1 / (1 + Math.exp(-logit));

/** Builds a v2 inference request body for nuclei-unet with the reference input. */
function nucleiRequest(extra: Record<string, unknown> = {}): string {
  return JSON.stringify({
    inputs: [
      { name: 'input.1', shape: nucleiInput.shape, datatype: 'FP32', data: Array.from(nucleiInput.data) },
    ],
    ...extra,
  });
}

describe('open inference protocol (v2)', () => {
  let gateway: TestGateway;
  let worker: ServiceProcess;
  let alice: string;
  let reader: string;

  beforeAll(async () => {
    gateway = await createTestGateway('jobs-v2');
    alice = await mintToken({ sub: 'alice', expiresInSeconds: 600 });
    reader = await mintToken({ sub: 'alice', scope: 'jobs:read', expiresInSeconds: 600 });
    worker = await startTestWorker(gateway.prefix, 'nuclei-unet');
  });
  afterAll(async () => {
    await worker?.stop(5_000);
    await gateway?.dispose();
  });

  const infer = (model: string, body: string, headers: Record<string, string> = {}, query = '') =>
    gateway.request(`/v2/models/${model}/infer${query}`, {
      method: 'POST',
      headers: { ...bearer(alice), 'content-type': 'application/json', ...headers },
      body,
    });

  describe('health', () => {
    it('answers live and ready with 200 and an empty body', async () => {
      for (const path of ['/v2/health/live', '/v2/health/ready']) {
        const response = await gateway.request(path);
        expect(response.status, path).toBe(200);
        expect(await response.text(), path).toBe('');
      }
    });

    it('answers model ready with 200 while a worker serves it', async () => {
      const response = await gateway.request('/v2/models/nuclei-unet/ready', { headers: bearer(reader) });
      expect(response.status).toBe(200);
    });

    it('answers model ready with 400 while no live worker serves it', async () => {
      await gateway.publish('brain-gwm');
      await new ModelRegistry(gateway.redis, new RedisKeys(gateway.prefix)).withdraw(
        'brain-gwm',
        'test-worker',
      );
      const response = await gateway.request('/v2/models/brain-gwm/ready', { headers: bearer(reader) });
      expect(response.status).toBe(400);
      const problem = await problemOf(response);
      expect(problem.type).toBe('https://medai-flow.dev/problems/model-not-ready');
      expect(problem.error).toBe(problem.detail);
    });
  });

  describe('model metadata', () => {
    it('describes the tensors in the v2 format', async () => {
      const response = await gateway.request('/v2/models/nuclei-unet', { headers: bearer(reader) });
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({
        name: 'nuclei-unet',
        versions: ['0.5.0'],
        platform: 'onnxruntime_onnx',
        inputs: [{ name: 'input.1', datatype: 'FP32', shape: [1, 1, 512, 512] }],
        outputs: [{ name: '82', datatype: 'FP32', shape: [1, 1, 512, 512] }],
      });
      const versioned = await gateway.request('/v2/models/nuclei-unet/versions/0.5.0', {
        headers: bearer(reader),
      });
      expect(versioned.status).toBe(200);
    });

    it('answers 404 with an error member for an unknown model or version', async () => {
      for (const path of ['/v2/models/no-such-model', '/v2/models/nuclei-unet/versions/9.9.9']) {
        const response = await gateway.request(path, { headers: bearer(reader) });
        expect(response.status, path).toBe(404);
        const problem = await problemOf(response);
        expect(problem.type).toBe('https://medai-flow.dev/problems/model-not-found');
        expect(typeof problem.error).toBe('string');
      }
    });

    it('answers 401 with an error member without a token', async () => {
      const response = await gateway.request('/v2/models/nuclei-unet');
      expect(response.status).toBe(401);
      expect((await problemOf(response)).error).toBeDefined();
    });
  });

  describe('inference', () => {
    it('waits for the job and answers the v2 response', async () => {
      const response = await infer('nuclei-unet', nucleiRequest({ id: 'request-42' }));
      expect(response.status).toBe(200);
      const body = (await response.json()) as V2InferenceResponse;
      expect(body.model_name).toBe('nuclei-unet');
      expect(body.model_version).toBe('0.5.0');
      expect(body.id).toBe('request-42');
      expect(body.outputs).toHaveLength(1);
      const [output] = body.outputs;
      expect(output?.name).toBe('82');
      expect(output?.datatype).toBe('FP32');
      expect(output?.shape).toEqual([1, 1, 512, 512]);
      expect(output?.data).toHaveLength(nucleiExpected.data.length);
      let maxDifference = 0;
      for (const [index, value] of (output?.data ?? []).entries()) {
        const probability = sigmoid(value);
        maxDifference = Math.max(
          maxDifference,
          Math.abs(probability - (nucleiExpected.data[index] ?? Number.NaN)),
        );
      }
      // The raw output is logits; the reference holds probabilities.
      expect(maxDifference).toBeLessThan(1e-4);
      expect(response.headers.get('location')).toMatch(/^\/v1\/jobs\/[0-9a-f-]{36}$/);
    });

    it('leaves out the id when the request has none', async () => {
      const response = await infer('nuclei-unet', nucleiRequest({ outputs: [{ name: '82' }] }));
      expect(response.status).toBe(200);
      const body = (await response.json()) as V2InferenceResponse;
      expect(body.id).toBeUndefined();
      expect(body.outputs.map((output) => output.name)).toEqual(['82']);
    });

    it('answers 202 with a job under Prefer: respond-async', async () => {
      const response = await infer('nuclei-unet', nucleiRequest(), { prefer: 'respond-async' });
      expect(response.status).toBe(202);
      expect(response.headers.get('preference-applied')).toBe('respond-async');
      const job = (await response.json()) as JobRepresentation;
      expect(response.headers.get('location')).toBe(`/v1/jobs/${job.id}`);
      expect(job.model).toBe('nuclei-unet');

      const done = await getJob(gateway, alice, job.id, { prefer: 'wait=20' });
      const ended = (await done.json()) as JobRepresentation;
      expect(ended.status).toBe('succeeded');
      expect(ended.result?.outputs?.[0]?.name).toBe('82');
    });

    it('rejects an unknown output name with 422', async () => {
      const response = await infer('nuclei-unet', nucleiRequest({ outputs: [{ name: 'logits' }] }));
      expect(response.status).toBe(422);
      const problem = await problemOf(response);
      expect(problem.field).toBe('outputs.0.name');
      expect(problem.error).toBe(problem.detail);
    });

    it('rejects a body that is not JSON with 415', async () => {
      const response = await infer('nuclei-unet', 'x', { 'content-type': 'image/png' });
      expect(response.status).toBe(415);
    });

    it('answers a job that expires with 504 and the v2 error', async () => {
      // A model that is published but whose queue no worker consumes, so its job never starts.
      const idle = { ...readManifest('nuclei-unet'), name: 'nuclei-idle' };
      await new ModelRegistry(gateway.redis, new RedisKeys(gateway.prefix)).publish(idle, 'test-worker');
      const started = Date.now();
      const response = await infer(
        'nuclei-idle',
        nucleiRequest({ id: 'late' }),
        { prefer: 'wait=5' },
        '?deadline=1',
      );

      expect(response.status).toBe(504);
      const problem = await problemOf(response);
      expect(problem.type).toBe('https://medai-flow.dev/problems/deadline-exceeded');
      expect(problem.error).toBe('the deadline passed before the job started');
      expect(problem.status).toBe(504);
      expect(Date.now() - started).toBeLessThan(4_000);
    });
  });
});
