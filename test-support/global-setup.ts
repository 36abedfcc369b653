import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { Redis } from 'ioredis';
import { RedisMemoryServer } from 'redis-memory-server';
import { builtEntryPoints, modelMirrorDir } from './paths.js';

const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';

/**
 * Stops the run early, with the fix, when something every test needs is missing. Tests use
 * the Redis at TEST_REDIS_URL; when that is unset and nothing responds at 127.0.0.1:6379, an
 * embedded redis-server is started for this run and the choice is printed.
 */
export default async function setUp(): Promise<() => Promise<void>> {
  for (const [service, entryPoint] of Object.entries(builtEntryPoints)) {
    if (!existsSync(entryPoint)) {
      throw new Error(`the ${service} is not built (${entryPoint} is missing): run "pnpm build" first`);
    }
  }
  if (!existsSync(modelMirrorDir)) {
    throw new Error(
      `model files not found at ${modelMirrorDir}: set MEDAI_SHARED_DIR to the folder holding models/ and data/`,
    );
  }

  const explicitUrl = process.env.TEST_REDIS_URL;
  if (explicitUrl) {
    if (!(await answers(explicitUrl)))
      throw new Error(`TEST_REDIS_URL is set but no Redis answers at ${explicitUrl}`);
    return async () => undefined;
  }
  if (await answers(DEFAULT_REDIS_URL)) {
    process.env.TEST_REDIS_URL = DEFAULT_REDIS_URL;
    return async () => undefined;
  }
  // The machine's redis-server, when there is one; without it redis-memory-server builds Redis from source.
  const systemBinary = execFileSync('sh', ['-c', 'command -v redis-server || true'], {
    encoding: 'utf8',
  }).trim();
  const server = await RedisMemoryServer.create(systemBinary ? { binary: { systemBinary } } : {});
  const url = `redis://${await server.getHost()}:${await server.getPort()}`;
  console.log(
    `no Redis answers at ${DEFAULT_REDIS_URL}: started an embedded redis-server at ${url} for this test run`,
  );
  process.env.TEST_REDIS_URL = url;
  return async () => {
    await server.stop();
  };
}

async function answers(url: string): Promise<boolean> {
  const redis = new Redis(url, { maxRetriesPerRequest: 0, retryStrategy: () => null, lazyConnect: true });
  try {
    await redis.connect();
    return (await redis.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    redis.disconnect();
  }
}
