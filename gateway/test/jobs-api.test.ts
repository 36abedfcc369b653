import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { type QueueJobData, QueueJobDataSchema } from '@medai-flow/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dataFiles } from '../../test-support/paths.js';
import { mintToken } from '../../test-support/tokens.js';
import { bearer, createTestGateway, problemOf, type TestGateway } from './support.js';

function niftiHeader(dims: number[]): Uint8Array {
  const header = Buffer.alloc(352);
  header.writeInt32LE(348, 0);
  header.writeInt16LE(dims.length, 40);
  for (const [index, size] of dims.entries()) header.writeInt16LE(size, 42 + index * 2);
  header.write('n+1\0', 344, 'latin1');
  return header;
}

describe('jobs API', () => {
  let gateway: TestGateway;
  let alice: string;
  beforeAll(async () => {
    gateway = await createTestGateway('jobs-api', { env: { MAX_BODY_BYTES: String(16 * 1024 * 1024) } });
    await gateway.publish('nuclei-unet');
    await gateway.publish('brain-gwm');
    alice = await mintToken({ sub: 'alice', expiresInSeconds: 600 });
  });
  afterAll(() => gateway.dispose());

  const submit = (
    model: string,
    contentType: string,
    body: string | Uint8Array,
    token = alice,
    query = '',
    headers = {},
  ) =>
    gateway.request(`/v1/models/${model}/jobs${query}`, {
      method: 'POST',
      headers: { ...bearer(token), 'content-type': contentType, ...headers },
      body,
    });

  async function queuedData(id: string): Promise<QueueJobData> {
    const job = await gateway.services.jobs.queueOf('nuclei-unet').getJob(id);
    return QueueJobDataSchema.parse(job?.data);
  }

  it('accepts a PNG and queues it', async () => {
    const png = readFileSync(dataFiles.nucleiPng);
    const traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    const response = await submit('nuclei-unet', 'image/png', png, alice, '?priority=urgent', {
      traceparent,
    });
    expect(response.status).toBe(202);
    const job = (await response.json()) as { id: string; status: string; priority: string };
    expect(response.headers.get('location')).toBe(`/v1/jobs/${job.id}`);
    expect(response.headers.get('retry-after')).toBe('1');
    expect(job.status).toBe('queued');
    expect(job.priority).toBe('urgent');

    const stored = await gateway.redis.getBuffer(gateway.services.keys.input(job.id));
    expect(stored?.equals(png)).toBe(true);
    const data = await queuedData(job.id);
    expect(data).toMatchObject({
      owner: 'alice',
      traceparent,
      input: { kind: 'media', mediaType: 'image/png' },
    });

    const read = await gateway.request(`/v1/jobs/${job.id}`, { headers: bearer(alice) });
    expect(read.status).toBe(200);
    expect(((await read.json()) as { id: string }).id).toBe(job.id);
  });

  it('stores JSON tensors as little-endian bytes', async () => {
    const values = Array.from({ length: 512 * 512 }, (_, index) => (index % 7) / 7);
    const body = JSON.stringify({
      inputs: [{ name: 'input.1', shape: [1, 1, 512, 512], datatype: 'FP32', data: values }],
    });
    const response = await submit('nuclei-unet', 'application/json', body);
    expect(response.status).toBe(202);
    const { id } = (await response.json()) as { id: string };
    const stored = (await gateway.redis.getBuffer(gateway.services.keys.input(id))) as Buffer;
    expect(stored.byteLength).toBe(512 * 512 * 4);
    expect(stored.readFloatLE(4 * 3)).toBeCloseTo(3 / 7, 6);
    const data = await queuedData(id);
    expect(data.input).toMatchObject({
      kind: 'tensors',
      tensors: [
        {
          name: 'input.1',
          datatype: 'FP32',
          shape: [1, 1, 512, 512],
          byteOffset: 0,
          byteLength: 512 * 512 * 4,
        },
      ],
    });
  });

  it('accepts a gzipped NIfTI volume of the right size', async () => {
    const response = await submit('brain-gwm', 'application/x-nifti', readFileSync(dataFiles.mriVolume));
    expect(response.status).toBe(202);
  });

  it('answers 404 for another subject job and an unknown id alike', async () => {
    const created = await submit('nuclei-unet', 'image/png', readFileSync(dataFiles.nucleiPng));
    const { id } = (await created.json()) as { id: string };
    const bob = await mintToken({ sub: 'bob' });
    const foreign = await gateway.request(`/v1/jobs/${id}`, { headers: bearer(bob) });
    const unknown = await gateway.request('/v1/jobs/00000000-0000-4000-8000-000000000000', {
      headers: bearer(bob),
    });
    expect(foreign.status).toBe(404);
    expect(unknown.status).toBe(404);
    const [foreignBody, unknownBody] = [await problemOf(foreign), await problemOf(unknown)];
    expect({ ...foreignBody, requestId: '' }).toEqual({ ...unknownBody, requestId: '' });
  });

  it('answers 404 for an unknown model', async () => {
    const response = await submit('no-such-model', 'image/png', new Uint8Array(8));
    expect(response.status).toBe(404);
    expect((await problemOf(response)).type).toMatch(/model-not-found$/);
  });

  it('answers 415 for a media type the model does not accept', async () => {
    const text = await submit('nuclei-unet', 'text/plain', 'hello');
    const nifti = await submit('nuclei-unet', 'application/x-nifti', niftiHeader([512, 512, 1]));
    expect(text.status).toBe(415);
    expect(nifti.status).toBe(415);
    expect((await problemOf(nifti)).expected).toContain('image/png');
  });

  it('answers 415 naming a compressed DICOM transfer syntax', async () => {
    const response = await submit('nuclei-unet', 'application/dicom', readFileSync(dataFiles.dicomCtJpegLs));
    expect(response.status).toBe(415);
    expect((await problemOf(response)).detail).toContain('1.2.840.10008.1.2.4.80');
  });

  it('answers 422 naming both DICOM modalities', async () => {
    const response = await submit(
      'nuclei-unet',
      'application/dicom',
      readFileSync(dataFiles.dicomCtUncompressed),
    );
    expect(response.status).toBe(422);
    const detail = (await problemOf(response)).detail;
    expect(detail).toContain('modality CT');
    expect(detail).toContain('SM, GM, OT');
  });

  it('answers 400 when the bytes do not match the media type', async () => {
    const response = await submit(
      'nuclei-unet',
      'image/png',
      readFileSync(dataFiles.mriVolume).subarray(0, 1000),
    );
    expect(response.status).toBe(400);
    expect((await problemOf(response)).detail).toContain('PNG');
  });

  it('answers 400 for malformed JSON', async () => {
    const response = await submit('nuclei-unet', 'application/json', '{"inputs": [');
    expect(response.status).toBe(400);
    expect((await problemOf(response)).type).toMatch(/invalid-json$/);
  });

  it.each([
    ['shape', { shape: [1, 1, 4, 4], datatype: 'FP32', count: 16 }, [1, 1, 512, 512], [1, 1, 4, 4]],
    ['datatype', { shape: [1, 1, 512, 512], datatype: 'INT32', count: 512 * 512 }, 'FP32', 'INT32'],
    ['data length', { shape: [1, 1, 512, 512], datatype: 'FP32', count: 10 }, 512 * 512, 10],
  ])('answers 422 naming expected and received for a wrong %s', async (_, tensor, expected, received) => {
    const body = JSON.stringify({
      inputs: [
        {
          name: 'input.1',
          shape: tensor.shape,
          datatype: tensor.datatype,
          data: Array(tensor.count).fill(0),
        },
      ],
    });
    const response = await submit('nuclei-unet', 'application/json', body);
    expect(response.status).toBe(422);
    const problem = await problemOf(response);
    expect(problem.expected).toEqual(expected);
    expect(problem.received).toEqual(received);
    expect(problem.detail).toContain(String(Array.isArray(expected) ? expected.join(', ') : expected));
  });

  it('answers 422 for a wrong tensor name', async () => {
    const body = JSON.stringify({ inputs: [{ name: 'x', shape: [1], datatype: 'FP32', data: [0] }] });
    const response = await submit('nuclei-unet', 'application/json', body);
    expect(response.status).toBe(422);
    expect((await problemOf(response)).expected).toEqual(['input.1']);
  });

  it.each([
    ['raw', (bytes: Uint8Array) => bytes],
    ['gzipped', (bytes: Uint8Array) => gzipSync(bytes)],
  ])('answers 422 for a %s volume of the wrong size', async (_, encode) => {
    const response = await submit('brain-gwm', 'application/x-nifti', encode(niftiHeader([128, 128, 64])));
    expect(response.status).toBe(422);
    const problem = await problemOf(response);
    expect(problem.expected).toEqual([256, 256, 256]);
    expect(problem.received).toEqual([128, 128, 64]);
  });

  it('answers 400 for a NIfTI body without a header', async () => {
    const response = await submit('brain-gwm', 'application/x-nifti', new Uint8Array(400));
    expect(response.status).toBe(400);
  });

  it('answers 413 for a body over the limit', async () => {
    const response = await submit('nuclei-unet', 'image/png', new Uint8Array(16 * 1024 * 1024 + 1));
    expect(response.status).toBe(413);
  });

  it('answers 400 for an unknown priority', async () => {
    const response = await submit(
      'nuclei-unet',
      'image/png',
      readFileSync(dataFiles.nucleiPng),
      alice,
      '?priority=now',
    );
    expect(response.status).toBe(400);
    expect((await problemOf(response)).field).toBe('priority');
  });

  it('lists published models with live workers and shows one', async () => {
    const list = await gateway.request('/v1/models', { headers: bearer(alice) });
    const names = ((await list.json()) as { models: { name: string }[] }).models.map((model) => model.name);
    expect(names).toEqual(['brain-gwm', 'nuclei-unet']);
    const one = await gateway.request('/v1/models/nuclei-unet', { headers: bearer(alice) });
    expect(((await one.json()) as { inputs: unknown }).inputs).toEqual([
      { name: 'input.1', datatype: 'FP32', shape: [1, 1, 512, 512] },
    ]);
  });

  it('counts submitted jobs per model', async () => {
    const text = await (await gateway.request('/metrics')).text();
    expect(text).toMatch(/jobs_submitted_total\{model="nuclei-unet"\} [1-9]/);
  });
});
