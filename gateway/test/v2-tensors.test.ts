import type { V2InferenceRequest } from '@medai-flow/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintToken } from '../../test-support/tokens.js';
import { encodeTensors } from '../src/jobs/tensors.js';
import { inferAsync } from './jobs-support.js';
import { createTestGateway, problemOf, readManifest, type TestGateway } from './support.js';

const SHAPE = [1, 1, 512, 512];
const flatData = Array.from({ length: 512 * 512 }, (_, index) => index % 251);

/** `flatData` nested one array per dimension of [1, 1, 512, 512], in row-major order. */
function nestedData(): number[][][][] {
  const rows = Array.from({ length: 512 }, (_, row) => flatData.slice(row * 512, (row + 1) * 512));
  return [[rows]];
}

const requestWith = (data: unknown, shape = SHAPE): string =>
  JSON.stringify({ inputs: [{ name: 'input.1', shape, datatype: 'FP32', data }] });

describe('v2 tensor data', () => {
  let gateway: TestGateway;
  let alice: string;
  beforeAll(async () => {
    gateway = await createTestGateway('v2-tensors', { env: { RATE_LIMIT_ANON_PER_MINUTE: '1000' } });
    await gateway.publish('nuclei-unet');
    alice = await mintToken({ sub: 'alice', expiresInSeconds: 600 });
  });
  afterAll(() => gateway.dispose());

  const infer = (body: string) => inferAsync(gateway, alice, body);

  it('encodes nested data as flat data', () => {
    const { inputs } = readManifest('nuclei-unet');
    const parse = (body: string) => JSON.parse(body) as V2InferenceRequest;
    const nested = encodeTensors(parse(requestWith(nestedData())), inputs);
    const flat = encodeTensors(parse(requestWith(flatData)), inputs);
    expect(nested.tensors).toEqual(flat.tensors);
    expect(Buffer.from(nested.bytes).equals(Buffer.from(flat.bytes))).toBe(true);
  });

  it('accepts nested data matching the shape', async () => {
    const response = await infer(requestWith(nestedData()));
    expect(response.status).toBe(202);
  });

  it('names the nested array of the wrong length', async () => {
    const data = nestedData();
    data[0]?.[0]?.[3]?.pop();
    const response = await infer(requestWith(data));
    expect(response.status).toBe(422);
    const problem = await problemOf(response);
    expect(problem.field).toBe('inputs.0.data[0][0][3]');
    expect(problem.expected).toBe(512);
    expect(problem.received).toBe(511);
    expect(problem.error).toContain('inputs.0.data[0][0][3] must be an array of 512 elements');
  });

  it('names an element nested too deep', async () => {
    const data = nestedData();
    (data[0]?.[0]?.[5] as unknown[])[9] = [4];
    const response = await infer(requestWith(data));
    expect(response.status).toBe(422);
    const problem = await problemOf(response);
    expect(problem.field).toBe('inputs.0.data[0][0][5][9]');
    expect(problem.detail).toContain('must be a single value');
  });

  it('names a nested element of the wrong type', async () => {
    const data = nestedData();
    (data[0]?.[0]?.[2] as unknown[])[7] = 'x';
    const response = await infer(requestWith(data));
    expect(response.status).toBe(422);
    const problem = await problemOf(response);
    expect(problem.field).toBe('inputs.0.data[0][0][2][7]');
    expect(problem.detail).toBe('inputs.0.data[0][0][2][7] must be a number');
  });

  it('names a flat element of the wrong type', async () => {
    const data: unknown[] = [...flatData];
    data[3] = 'x';
    const response = await infer(requestWith(data));
    expect(response.status).toBe(422);
    expect((await problemOf(response)).field).toBe('inputs.0.data[3]');
  });

  it('names expected and received for a wrong flat count', async () => {
    const response = await infer(requestWith(flatData.slice(1)));
    expect(response.status).toBe(422);
    const problem = await problemOf(response);
    expect(problem.field).toBe('inputs.0.data');
    expect(problem.expected).toBe(512 * 512);
    expect(problem.received).toBe(512 * 512 - 1);
  });

  it('serves v2 server metadata', async () => {
    const response = await gateway.request('/v2');
    expect(response.status).toBe(200);
    const body = (await response.json()) as Record<string, unknown>;
    expect(body).toEqual({ name: '@medai-flow/gateway', version: expect.any(String), extensions: [] });
    expect(response.headers.get('ratelimit-policy')).toContain('q=1000');
  });
});
