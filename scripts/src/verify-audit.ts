import { createRedis, RedisKeys, verifyAuditChain } from '@medai-flow/common';

/**
 * Verifies the audit trail of one deployment (`pnpm verify-audit`): every event links to the
 * one before, every hash matches its event, and the last event is the stored head. Reads
 * REDIS_URL and REDIS_PREFIX (default `medai`); exits 0 when the chain is intact, 1 when not.
 */
async function main(): Promise<number> {
  const url = process.env.REDIS_URL;
  if (!url) {
    console.error('REDIS_URL is not set: point it at the Redis server of the deployment to verify');
    return 2;
  }
  const prefix = process.env.REDIS_PREFIX ?? 'medai';
  const redis = createRedis(url, { role: 'worker', connectionName: 'verify-audit' });
  try {
    const result = await verifyAuditChain(redis, new RedisKeys(prefix));
    if (result.ok && result.events === 0) {
      console.log(
        `audit trail empty: no events under REDIS_PREFIX=${prefix}; check the prefix if you expected some`,
      );
      return 0;
    }
    if (result.ok) {
      console.log(`audit trail intact: ${result.events} events, head ${result.head}`);
      return 0;
    }
    console.error(
      `audit trail broken after ${result.events} valid events, at entry ${result.entryId}: ${result.reason}`,
    );
    return 1;
  } finally {
    redis.disconnect();
  }
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(`audit verification failed: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = 2;
  },
);
