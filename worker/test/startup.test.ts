import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { builtEntryPoints, dataFiles, modelMirrorDir, modelRepositoryDir } from '../../test-support/paths.js';
import { ServiceProcess } from '../../test-support/processes.js';
import { deleteKeys, RedisServer, testRedisUrl, uniquePrefix } from '../../test-support/redis.js';
import { readBytes, startInProcess, TestClient, workerProcessEnv } from './harness.js';

const NUCLEI_SHA256 = '85f5ac80fa977fea3562ef97c8c5950288be2c4f4cdb5d994807df97008ce088';
const folders: string[] = [];

/** Copies the nuclei-unet manifest into a fresh repository folder and changes it with `edit`. */
function repositoryWith(edit: (manifest: Record<string, unknown>) => void): string {
  const folder = mkdtempSync(join(tmpdir(), 'medai-models-'));
  folders.push(folder);
  cpSync(join(modelRepositoryDir, 'nuclei-unet'), join(folder, 'nuclei-unet'), { recursive: true });
  const path = join(folder, 'nuclei-unet/model.json');
  const manifest = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  edit(manifest);
  writeFileSync(path, JSON.stringify(manifest));
  return folder;
}

/** Runs a worker that is expected to stop at start-up; returns its exit code and log lines. */
async function failedStart(env: Record<string, string>) {
  const process = ServiceProcess.spawn('worker', builtEntryPoints.worker, {
    MODEL_MIRROR_DIR: modelMirrorDir,
    METRICS_PORT: '0',
    ...workerProcessEnv('t-startup-unused', env),
  });
  const { code } = await process.exited;
  return { code, logs: process.logs };
}

afterEach(() => {
  for (const folder of folders.splice(0)) rmSync(folder, { recursive: true, force: true });
});

describe('worker start-up', () => {
  it('rejects a model file with the wrong SHA-256', async () => {
    const wrong = '0'.repeat(64);
    const repository = repositoryWith((manifest) => {
      (manifest.source as { sha256: string }).sha256 = wrong;
    });
    const { code, logs } = await failedStart({ MODEL_REPOSITORY: repository });
    expect(code).toBe(1);
    const line = logs.find((candidate) => candidate.msg === 'model load failed');
    expect(line?.code).toBe('checksum-mismatch');
    expect(line?.error).toContain(NUCLEI_SHA256);
    expect(line?.error).toContain(wrong);
  });

  it('rejects a bad manifest naming the file', async () => {
    const repository = repositoryWith((manifest) => {
      manifest.preprocessing = { layout: 'NCHW' };
    });
    const { code, logs } = await failedStart({ MODEL_REPOSITORY: repository });
    expect(code).toBe(1);
    const line = logs.find((candidate) => candidate.msg === 'model load failed');
    expect(line?.code).toBe('manifest-invalid');
    expect(line?.error).toContain(join(repository, 'nuclei-unet/model.json'));
    expect(line?.error).toContain('preprocessing.normalize');
  });

  it('rejects an invalid variable naming it', async () => {
    const { code, logs } = await failedStart({ MODEL_REPOSITORY: modelRepositoryDir, METRICS_PORT: 'many' });
    expect(code).toBe(1);
    const line = logs.find((candidate) => candidate.msg === 'invalid configuration');
    expect(line?.issues).toEqual([expect.stringMatching(/^METRICS_PORT: /)]);
    expect(line?.level).toBe(60);
    expect(typeof line?.time).toBe('string');
  });

  it('reports a busy METRICS_PORT in one line', async () => {
    const busy = createServer();
    await new Promise<void>((resolveListen) => busy.listen(0, '127.0.0.1', resolveListen));
    const port = (busy.address() as AddressInfo).port;
    const prefix = uniquePrefix('busy-port');
    try {
      const { code, logs } = await failedStart({
        MODEL_REPOSITORY: modelRepositoryDir,
        ...workerProcessEnv(prefix, { METRICS_PORT: String(port) }),
      });
      expect(code).toBe(1);
      const line = logs.find((candidate) => candidate.msg === 'listen failed');
      expect(line).toMatchObject({ level: 60, variable: 'METRICS_PORT', port, code: 'EADDRINUSE' });
      expect(line?.err).toBeUndefined();
      expect(logs.filter((candidate) => candidate.level === 60)).toHaveLength(1);
    } finally {
      busy.close();
      await deleteKeys(testRedisUrl, prefix);
    }
  });
});

describe('when Redis restarts', () => {
  it('worker serves jobs again', async () => {
    const server = await RedisServer.start();
    const client = new TestClient(uniquePrefix('restart'), server.url);
    const service = await startInProcess(client.prefix, { REDIS_URL: server.url });
    try {
      await server.restart();
      const id = await client.submitMedia('nuclei-unet', 'image/png', readBytes(dataFiles.nucleiPng));
      const record = await client.waitFor(id, undefined, 30_000);
      expect(record.status, JSON.stringify(record.error)).toBe('succeeded');
    } finally {
      await service.close();
      await client.close();
      await server.stop();
    }
  });
});
