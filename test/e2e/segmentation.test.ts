import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gunzipSync } from 'node:zlib';
import { ApiError, MedAIClient } from '@medai-flow/client';
import { type ChainedAuditEvent, RedisKeys, verifyAuditChain } from '@medai-flow/common';
import { Redis } from 'ioredis';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readNpy } from '../../test-support/npy.js';
import { dataFiles, repoRoot } from '../../test-support/paths.js';
import { type ServiceProcess, startGateway, startWorker } from '../../test-support/processes.js';
import { deleteKeys, testRedisUrl, uniquePrefix } from '../../test-support/redis.js';
import { mintToken, testJwtSecret } from '../../test-support/tokens.js';

const prefix = uniquePrefix('e2e');
let worker: ServiceProcess;
let gateway: ServiceProcess & { baseUrl: string };
let client: MedAIClient;
let redis: Redis;

beforeAll(async () => {
  const env = { REDIS_URL: testRedisUrl, REDIS_PREFIX: prefix, AUTH_JWT_SECRET: testJwtSecret };
  [worker, gateway] = await Promise.all([startWorker(env), startGateway(env)]);
  client = new MedAIClient({ baseUrl: gateway.baseUrl, token: await mintToken({ sub: 'e2e-user' }) });
  redis = new Redis(testRedisUrl);
}, 120_000);

afterAll(async () => {
  await Promise.all([gateway?.kill('SIGTERM'), worker?.kill('SIGTERM')]);
  redis?.disconnect();
  await deleteKeys(testRedisUrl, prefix);
});

describe('nuclei-unet through HTTP', () => {
  it('segments the PNG like the reference', async () => {
    const submission = await client.submit('nuclei-unet', {
      mediaType: 'image/png',
      bytes: readFileSync(dataFiles.nucleiPng),
    });
    expect(submission.status).toBe(202);
    const job = await client.waitForJob(submission.job.id, { timeoutMs: 60_000 });
    expect(job.status, JSON.stringify(job.error)).toBe('succeeded');

    const segmentation = job.result?.segmentation;
    expect(segmentation?.mask.mediaType).toBe('image/png');
    const png = Buffer.from(segmentation?.mask.data ?? '', 'base64');
    const metadata = await sharp(png).metadata();
    expect(metadata.width).toBe(512);
    expect(metadata.height).toBe(512);
    expect(metadata.channels).toBe(1);
    // sharp converts to sRGB on output unless the pipeline requests one grey channel.
    const mask = await sharp(png).toColourspace('b-w').raw().toBuffer({ resolveWithObject: true });
    expect(mask.info.channels).toBe(1);

    const reference = readNpy(dataFiles.nucleiExpectedNpy).data;
    let both = 0;
    let predicted = 0;
    let expected = 0;
    for (let i = 0; i < reference.length; i++) {
      const inMask = (mask.data[i] ?? 0) > 0;
      const inReference = (reference[i] ?? 0) > 0.5;
      if (inMask) predicted++;
      if (inReference) expected++;
      if (inMask && inReference) both++;
    }
    const dice = (2 * both) / (predicted + expected);
    expect(dice).toBeGreaterThanOrEqual(0.99);

    const nucleus = segmentation?.stats.find((stat) => stat.label === 'nucleus');
    expect(Math.abs((nucleus?.fraction ?? 0) * 100 - 20.7)).toBeLessThanOrEqual(0.5);
    expect(nucleus?.count).toBe(predicted);
  });

  it('names the model file that ran', async () => {
    const submission = await client.submit('nuclei-unet', {
      mediaType: 'image/png',
      bytes: readFileSync(dataFiles.nucleiPng),
    });
    const job = await client.waitForJob(submission.job.id, { timeoutMs: 60_000 });
    expect(job.result?.model).toEqual({
      name: 'nuclei-unet',
      version: '0.5.0',
      sha256: '85f5ac80fa977fea3562ef97c8c5950288be2c4f4cdb5d994807df97008ce088',
    });
    expect(job.result?.timings.inferenceMs).toBeGreaterThan(0);
  });

  it('deletes the input bytes once the job ends', async () => {
    const submission = await client.submit('nuclei-unet', {
      mediaType: 'image/png',
      bytes: readFileSync(dataFiles.nucleiPng),
    });
    const inputKey = `${prefix}:input:${submission.job.id}`;
    await client.waitForJob(submission.job.id, { timeoutMs: 60_000 });
    expect(await redis.exists(inputKey)).toBe(0);
    expect(await redis.exists(`${prefix}:bull:nuclei-unet:${submission.job.id}`)).toBe(0);
    expect(await redis.exists(`${prefix}:job:${submission.job.id}`)).toBe(1);
  });
});

describe('client against a live stack', () => {
  it('lists the served models', async () => {
    const models = await client.listModels();
    expect(models.map((model) => model.name).sort()).toEqual(['brain-gwm', 'nuclei-unet']);
    expect(models.every((model) => model.liveWorkers >= 1)).toBe(true);
  });

  it('reports a finished job as not cancellable', async () => {
    const submission = await client.submit('nuclei-unet', {
      mediaType: 'image/png',
      bytes: readFileSync(dataFiles.nucleiPng),
    });
    await client.waitForJob(submission.job.id, { timeoutMs: 60_000 });
    const failure = await client.cancel(submission.job.id).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(ApiError);
    expect((failure as ApiError).status).toBe(409);
    expect((failure as ApiError).code).toBe('job-finished');
  });
});

describe('audit trail', () => {
  it('records submissions and endings in an intact chain', async () => {
    const submission = await client.submit('nuclei-unet', {
      mediaType: 'image/png',
      bytes: readFileSync(dataFiles.nucleiPng),
    });
    const job = await client.waitForJob(submission.job.id, { timeoutMs: 60_000 });
    const keys = new RedisKeys(prefix);
    const events = (await redis.xrange(keys.audit, '-', '+'))
      .map(([, fields]) => JSON.parse(fields[1] ?? '{}') as ChainedAuditEvent)
      .filter((event) => event.jobId === job.id);
    expect(events.map((event) => event.action)).toEqual(['job.submitted', 'job.succeeded']);
    expect(events[0]?.actor).toBe('e2e-user');
    expect(events[0]?.inputSha256).toMatch(/^[0-9a-f]{64}$/);
    expect(events[1]?.resultSha256).toMatch(/^[0-9a-f]{64}$/);
    expect(events[1]?.modelSha256).toBe(job.result?.model.sha256);
    expect(JSON.stringify(events)).not.toContain(job.result?.segmentation?.mask.data.slice(0, 32));
    expect((await verifyAuditChain(redis, keys)).ok).toBe(true);
  });
});

describe('medai CLI', () => {
  const cli = join(repoRoot, 'packages/client/dist/cli.js');

  async function runCli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    const env = { PATH: process.env.PATH ?? '', MEDAI_URL: gateway.baseUrl, MEDAI_TOKEN: await mintToken() };
    try {
      const { stdout, stderr } = await promisify(execFile)(process.execPath, [cli, ...args], { env });
      return { code: 0, stdout, stderr };
    } catch (error) {
      const failed = error as { code: number; stdout: string; stderr: string };
      return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
    }
  }

  it('submits, waits and writes the mask', async () => {
    const maskPath = join(mkdtempSync(join(tmpdir(), 'medai-cli-')), 'mask.png');
    const run = await runCli(['submit', 'nuclei-unet', dataFiles.nucleiPng, '--wait', '--mask', maskPath]);
    expect(run.code, run.stderr).toBe(0);
    const job = JSON.parse(run.stdout);
    expect(job.status).toBe('succeeded');
    expect(job.result.segmentation.mask).toEqual({ mediaType: 'image/png', file: maskPath });
    expect((await sharp(maskPath).metadata()).width).toBe(512);
  });

  it('exits 1 with the problem for a rejected file', async () => {
    const run = await runCli(['submit', 'nuclei-unet', dataFiles.dicomCtUncompressed]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('422');
    expect(run.stderr).toContain('modality CT');
  });

  it('names the allowed priorities', async () => {
    const run = await runCli(['submit', 'nuclei-unet', dataFiles.nucleiPng, '--priority', 'high']);
    expect(run.code).toBe(1);
    expect(run.stderr).toBe('error: --priority must be stat, urgent, routine or batch, got "high"\n');
  });
});

describe('brain-gwm through HTTP', () => {
  it('measures grey and white matter volumes', async () => {
    const submission = await client.submit('brain-gwm', {
      mediaType: 'application/x-nifti',
      bytes: readFileSync(dataFiles.mriVolume),
    });
    expect(submission.status).toBe(202);
    const job = await client.waitForJob(submission.job.id, { timeoutMs: 120_000 });
    expect(job.status, JSON.stringify(job.error)).toBe('succeeded');

    const stats = job.result?.segmentation?.stats ?? [];
    const grey = stats.find((stat) => stat.label === 'grey matter')?.volumeMl ?? 0;
    const white = stats.find((stat) => stat.label === 'white matter')?.volumeMl ?? 0;
    expect(Math.abs(grey - 735) / 735).toBeLessThanOrEqual(0.02);
    expect(Math.abs(white - 519) / 519).toBeLessThanOrEqual(0.02);

    const mask = job.result?.segmentation?.mask;
    expect(mask?.mediaType).toBe('application/x-nifti+gzip');
    const volume = gunzipSync(Buffer.from(mask?.data ?? '', 'base64'));
    expect(volume.readInt32LE(0)).toBe(348);
    expect(volume.readInt16LE(42)).toBe(256);
    expect(volume.readInt16LE(70)).toBe(2);
  }, 120_000);
});
