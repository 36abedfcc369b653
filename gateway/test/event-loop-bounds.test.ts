import { readFileSync } from 'node:fs';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dataFiles } from '../../test-support/paths.js';
import { mintToken } from '../../test-support/tokens.js';
import { inflateHeader, MAX_INFLATED_BYTES, readNiftiHeader } from '../src/jobs/nifti.js';
import { bearer, createTestGateway, problemOf, type TestGateway } from './support.js';

describe('gzip NIfTI header check', () => {
  const header = gunzipSync(readFileSync(dataFiles.mriVolume)).subarray(0, 352);
  // 64 MiB of zeros after a valid header compress about 1000-fold, as a decompression bomb does.
  const bomb = gzipSync(Buffer.concat([header, Buffer.alloc(64 * 1024 * 1024)]), { level: 9 });

  it('reads the header of a highly compressed volume', () => {
    const parsed = readNiftiHeader(bomb);

    expect(parsed.dims.slice(0, 4)).toEqual([3, 256, 256, 256]);
    expect(parsed.voxOffset).toBe(352);
  });

  it('inflates only a bounded prefix', () => {
    // Inflating a 64 KiB prefix of this stream would produce 64 MiB on the event loop.
    const inflated = inflateHeader(bomb);
    expect(inflated.byteLength).toBeGreaterThanOrEqual(348);
    expect(inflated.byteLength).toBeLessThanOrEqual(MAX_INFLATED_BYTES);
  });

  it('reads the header of the sample volume', () => {
    expect(readNiftiHeader(readFileSync(dataFiles.mriVolume)).dims.slice(0, 4)).toEqual([3, 256, 256, 256]);
  });
});

describe('JSON submission limits', () => {
  let gateway: TestGateway;
  let alice: string;
  beforeAll(async () => {
    gateway = await createTestGateway('json-limits', { env: { MAX_JSON_BODY_BYTES: '1048576' } });
    await gateway.publish('nuclei-unet');
    alice = await mintToken({ sub: 'alice', expiresInSeconds: 600 });
  });
  afterAll(() => gateway.dispose());

  const post = (path: string, body: string | Uint8Array) =>
    gateway.request(path, {
      method: 'POST',
      headers: { ...bearer(alice), 'content-type': 'application/json', prefer: 'respond-async' },
      body,
    });

  it('rejects a JSON body over MAX_JSON_BODY_BYTES with 413', async () => {
    const body = JSON.stringify({ inputs: [], padding: 'x'.repeat(2 * 1024 * 1024) });

    for (const path of ['/v1/models/nuclei-unet/jobs', '/v2/models/nuclei-unet/infer']) {
      const response = await post(path, body);
      expect(response.status).toBe(413);
      expect((await problemOf(response)).limit).toBe(1_048_576);
    }
  });

  it('rejects deep nesting before parsing', async () => {
    const depth = 100_000;
    const body = `{"inputs":[],"parameters":${'['.repeat(depth)}${']'.repeat(depth)}}`;

    const response = await post('/v2/models/nuclei-unet/infer', body);

    expect(response.status).toBe(400);
    expect((await problemOf(response)).detail).toBe('the JSON body is nested deeper than 32 levels');
  });

  it('skips brackets inside strings', async () => {
    const body = JSON.stringify({ id: '['.repeat(100), inputs: 'not a list' });

    const response = await post('/v2/models/nuclei-unet/infer', body);

    expect(response.status).toBe(422);
  });
});
