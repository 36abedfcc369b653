/**
 * Gateway benchmark. It measures the throughput of an authenticated request through the whole
 * edge chain: token check, revocation and rate limit in Redis, security headers and metrics.
 * The baseline is a bare Hono route. Both run on @hono/node-server, each in its own process on
 * loopback, with the gateway's production Node.js flags, and one load generator drives both.
 *
 * Each target is measured at several concurrency levels, and the ratio compares the peak
 * throughput of each. A bare route is saturated by a few concurrent requests. The gateway keeps
 * every request open across a Redis round trip, so it needs more in flight to keep its CPU
 * busy. It prints requests per second and latency percentiles of every level, the peaks and
 * the ratio.
 *
 * Environment: REDIS_URL (default redis://127.0.0.1:6379, loopback only), BENCH_SECONDS
 * (measured seconds per target, level and round, default 3), BENCH_CONNECTIONS (concurrency
 * levels, comma-separated, default 32,64,128).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { serve } from '@hono/node-server';
import { createRedis, ModelRegistry, RedisKeys } from '@medai-flow/common';
import { PublishedModelSchema } from '@medai-flow/contracts';
import { GATEWAY_NODE_FLAGS } from '@medai-flow/gateway';
import { deleteKeys } from '@medai-flow/testkit';
import { Hono } from 'hono';
import { SignJWT } from 'jose';
import { Pool } from 'undici';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const WARM_UP_MS = 500;
/**
 * Rounds alternate the targets and levels, so that load from other processes on the machine
 * hits each alike. Single rounds on the 2-core benchmark VM varied by up to 20 %, so 5 rounds
 * give each median.
 */
const ROUNDS = 5;
const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

interface LoadResult {
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
}

/**
 * Runs the bare Hono app in this process and prints its port; the parent process starts it.
 * It serves the same path and JSON body as the gateway's authenticated route (BENCH_BARE_BODY),
 * so that the ratio measures the edge chain, not a difference in the handlers' work.
 */
function serveBare(): void {
  const body = process.env.BENCH_BARE_BODY ?? '{}';
  const app = new Hono();
  app.get('/v1/models/:model', (c) => c.body(body, 200, { 'content-type': 'application/json' }));
  serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, (info) => {
    process.stdout.write(`${JSON.stringify({ msg: 'bare listening', port: info.port })}\n`);
  });
}

/** Starts a child process and resolves with the port of its first log line with `message`. */
async function startChild(
  args: string[],
  env: Record<string, string>,
  message: string,
): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, args, {
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
  const port = await new Promise<number>((resolvePort, reject) => {
    child.once('exit', (code) =>
      reject(new Error(`${args.join(' ')} exited with code ${code} before listening`)),
    );
    lines.on('line', (text) => {
      try {
        const line = JSON.parse(text) as { msg?: string; port?: number };
        if (line.msg === message && line.port) resolvePort(line.port);
      } catch {
        // Not a JSON log line.
      }
    });
  });
  return { child, port };
}

/** Returns the run with the median throughput. */
function median(results: LoadResult[]): LoadResult {
  const sorted = [...results].sort((a, b) => a.requestsPerSecond - b.requestsPerSecond);
  return sorted[Math.floor(sorted.length / 2)] as LoadResult;
}

function percentile(sorted: number[], fraction: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * fraction))] ?? 0;
}

/** Sends GET `path` from `connections` concurrent loops for `durationMs` and measures. */
async function load(
  origin: string,
  path: string,
  headers: Record<string, string>,
  durationMs: number,
  connections: number,
): Promise<LoadResult> {
  const pool = new Pool(origin, { connections, pipelining: 1 });
  const latencies: number[] = [];
  let errors = 0;
  let measuring = false;
  const startedAt = performance.now();
  const warmEnd = startedAt + WARM_UP_MS;
  const end = warmEnd + durationMs;
  const loop = async () => {
    while (performance.now() < end) {
      const sentAt = performance.now();
      const response = await pool.request({ origin, path, method: 'GET', headers });
      await response.body.dump();
      const now = performance.now();
      if (sentAt >= warmEnd) {
        measuring = true;
        if (response.statusCode === 200) latencies.push(now - sentAt);
        else errors++;
      }
    }
  };
  await Promise.all(Array.from({ length: connections }, loop));
  await pool.close();
  if (!measuring) throw new Error('no request completed after the warm-up');
  latencies.sort((a, b) => a - b);
  return {
    requestsPerSecond: latencies.length / (durationMs / 1000),
    p50Ms: percentile(latencies, 0.5),
    p99Ms: percentile(latencies, 0.99),
    errors,
  };
}

function checkLoopback(redisUrl: string): void {
  const host = new URL(redisUrl).hostname;
  if (!LOOPBACK_HOSTS.has(host)) {
    throw new Error(`REDIS_URL must point at loopback for the benchmark (got host ${host})`);
  }
}

async function publishModel(redisUrl: string, prefix: string): Promise<void> {
  const manifest = JSON.parse(readFileSync(`${repoRoot}models/nuclei-unet/model.json`, 'utf8'));
  const published = PublishedModelSchema.parse({ ...manifest, sha256: manifest.source.sha256 });
  const redis = createRedis(redisUrl, { role: 'worker' });
  try {
    await new ModelRegistry(redis, new RedisKeys(prefix)).publish(published, 'bench');
  } finally {
    redis.disconnect();
  }
}

function format(name: string, connections: number, result: LoadResult): string {
  const rate = result.requestsPerSecond.toFixed(0).padStart(8);
  return `${name.padEnd(28)} ${String(connections).padStart(3)} conn ${rate} req/s   p50 ${result.p50Ms.toFixed(2)} ms   p99 ${result.p99Ms.toFixed(2)} ms   non-200 ${result.errors}`;
}

async function main(): Promise<void> {
  const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  checkLoopback(redisUrl);
  const durationMs = Number(process.env.BENCH_SECONDS ?? 3) * 1000;
  const levels = (process.env.BENCH_CONNECTIONS ?? '32,64,128').split(',').map(Number);
  if (levels.some((level) => !Number.isInteger(level) || level < 1)) {
    throw new Error('BENCH_CONNECTIONS must be positive integers separated by commas, such as 32,64,128');
  }
  const prefix = `bench-${randomBytes(4).toString('hex')}`;
  const secret = randomBytes(32).toString('hex');
  await publishModel(redisUrl, prefix);

  const children: ChildProcess[] = [];
  try {
    const gateway = await startChild(
      [...GATEWAY_NODE_FLAGS, `${repoRoot}gateway/dist/main.js`],
      {
        NODE_ENV: 'production',
        AUTH_ALLOW_HS256_IN_PRODUCTION: 'true',
        AUTH_JWT_SECRET: secret,
        REDIS_URL: redisUrl,
        REDIS_PREFIX: prefix,
        HOST: '127.0.0.1',
        PORT: '0',
        // High enough that the limiter runs on every request but never rejects one.
        RATE_LIMIT_PER_MINUTE: '100000000',
        LOG_LEVEL: 'info',
      },
      'gateway listening',
    );
    children.push(gateway.child);
    const token = await new SignJWT({ scope: 'jobs:read' })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('bench')
      .setJti(randomBytes(8).toString('hex'))
      .setIssuedAt()
      .setExpirationTime('1h')
      .sign(new TextEncoder().encode(secret));
    const authenticated = { authorization: `Bearer ${token}` };
    const gatewayOrigin = `http://127.0.0.1:${gateway.port}`;
    const probe = await fetch(`${gatewayOrigin}/v1/models/nuclei-unet`, { headers: authenticated });
    if (probe.status !== 200)
      throw new Error(`the authenticated probe returned status ${probe.status}, expected 200`);
    const bare = await startChild(
      [...GATEWAY_NODE_FLAGS, fileURLToPath(import.meta.url), '--serve-bare'],
      { BENCH_BARE_BODY: await probe.text() },
      'bare listening',
    );
    children.push(bare.child);

    console.log(
      `gateway benchmark: ${levels.join(', ')} connections, ${ROUNDS} interleaved rounds of ${durationMs / 1000} s per target and level (medians shown), loopback, node ${GATEWAY_NODE_FLAGS.join(' ')}`,
    );
    const targets: [string, string, string, Record<string, string>][] = [
      ['bare Hono route', `http://127.0.0.1:${bare.port}`, '/v1/models/nuclei-unet', {}],
      ['gateway /healthz (no auth)', gatewayOrigin, '/healthz', {}],
      ['authenticated gateway route', gatewayOrigin, '/v1/models/nuclei-unet', authenticated],
    ];
    const runs = new Map<string, LoadResult[]>();
    const runKey = (name: string, level: number) => `${name}\t${level}`;
    for (let round = 0; round < ROUNDS; round++) {
      for (const level of levels) {
        for (const [name, origin, path, headers] of targets) {
          const result = await load(origin, path, headers, durationMs, level);
          runs.set(runKey(name, level), [...(runs.get(runKey(name, level)) ?? []), result]);
        }
      }
    }

    const peaks = new Map<string, { level: number; result: LoadResult }>();
    for (const [name] of targets) {
      for (const level of levels) {
        const result = median(runs.get(runKey(name, level)) ?? []);
        console.log(format(name, level, result));
        const peak = peaks.get(name);
        if (!peak || result.requestsPerSecond > peak.result.requestsPerSecond)
          peaks.set(name, { level, result });
      }
    }
    console.log('peak throughput:');
    for (const [name, { level, result }] of peaks) console.log(format(name, level, result));
    const bareRate = peaks.get('bare Hono route')?.result.requestsPerSecond ?? Number.NaN;
    const gatewayRate = peaks.get('authenticated gateway route')?.result.requestsPerSecond ?? Number.NaN;
    console.log(
      `ratio authenticated gateway / bare, peak throughput: ${(gatewayRate / bareRate).toFixed(2)} (target >= 0.5)`,
    );
  } finally {
    for (const child of children) child.kill('SIGTERM');
    await deleteKeys(redisUrl, prefix);
  }
}

if (process.argv.includes('--serve-bare')) {
  serveBare();
} else {
  main().catch((error: unknown) => {
    console.error(`benchmark failed: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  });
}
