import type { V2InferenceRequest } from '@medai-flow/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintToken } from '../../test-support/tokens.js';
import { GatewayError } from '../src/errors/gateway-error.js';
import { encodeTensors } from '../src/jobs/tensors.js';
import { inferAsync } from './jobs-support.js';
import { createTestGateway, problemOf, readManifest, type TestGateway } from './support.js';

const SHAPE = [1, 1, 512, 512];
const ELEMENTS = 512 * 512;

/** Builds a v2 request of the nuclei model's FP32 input whose first element is the literal `first`. */
function requestWithFirst(first: string): string {
  const rest = new Array(ELEMENTS - 1).fill(0).join(',');
  return `{"inputs":[{"name":"input.1","shape":[1,1,512,512],"datatype":"FP32","data":[${first},${rest}]}]}`;
}

/** Builds an object nested `depth` levels deep without JSON, so no parser limit applies. */
function deepObject(depth: number): unknown {
  let value: Record<string, unknown> = {};
  for (let level = 0; level < depth; level++) value = { a: value };
  return value;
}

describe('tensor element values', () => {
  it('describes a deeply nested element by type', () => {
    const data: unknown[] = new Array(ELEMENTS).fill(0);
    data[0] = deepObject(1_000_000);
    const request = {
      inputs: [{ name: 'input.1', shape: SHAPE, datatype: 'FP32', data }],
    } as V2InferenceRequest;

    let thrown: unknown;
    try {
      encodeTensors(request, readManifest('nuclei-unet').inputs);
    } catch (error) {
      thrown = error;
    }

    expect(thrown).toBeInstanceOf(GatewayError);
    expect((thrown as GatewayError).extensions?.field).toBe('inputs.0.data[0]');
    expect((thrown as GatewayError).extensions?.received).toBe('object');
  });

  describe('over HTTP', () => {
    let gateway: TestGateway;
    let alice: string;
    beforeAll(async () => {
      gateway = await createTestGateway('tensor-values');
      await gateway.publish('nuclei-unet');
      alice = await mintToken({ sub: 'alice', expiresInSeconds: 600 });
    });
    afterAll(() => gateway.dispose());

    const infer = (body: string) => inferAsync(gateway, alice, body);

    it.each([
      ['1e400', 'must be a finite number', 'Infinity'],
      ['-1e400', 'must be a finite number', '-Infinity'],
      ['3.5e38', 'is outside the FP32 range', 3.5e38],
      ['-1e39', 'is outside the FP32 range', -1e39],
    ])('rejects %s with 422', async (literal, detail, received) => {
      const response = await infer(requestWithFirst(literal));

      expect(response.status).toBe(422);
      const problem = await problemOf(response);
      expect(problem.field).toBe('inputs.0.data[0]');
      expect(problem.detail).toContain(detail);
      expect(problem.received).toBe(received);
    });

    it('accepts the largest FP32 value', async () => {
      const response = await infer(requestWithFirst('3.4028234663852886e38'));

      expect(response.status).toBe(202);
    });

    it('describes an object element by type', async () => {
      const response = await infer(requestWithFirst('{"a":{"b":[1,2,3]}}'));

      expect(response.status).toBe(422);
      expect((await problemOf(response)).received).toBe('object');
    });
  });
});
