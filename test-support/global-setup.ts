import { existsSync } from 'node:fs';
import { Redis } from 'ioredis';
import { builtEntryPoints, modelMirrorDir } from './paths.js';
import { testRedisUrl } from './redis.js';

/** Stops the run early, with the fix, when something every test needs is missing. */
export default async function checkPrerequisites(): Promise<void> {
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
  const redis = new Redis(testRedisUrl, {
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    lazyConnect: true,
  });
  try {
    await redis.connect();
    await redis.ping();
  } catch (error) {
    throw new Error(
      `no Redis answers at ${testRedisUrl} (set TEST_REDIS_URL, or start redis-server): ${String(error)}`,
    );
  } finally {
    redis.disconnect();
  }
}
