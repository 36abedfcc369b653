import {
  ConfigError,
  createLogger,
  createRedis,
  ListenError,
  loadConfig,
  throttledErrorLog,
} from '@medai-flow/common';
import { createApp } from './app.js';
import { gatewayEnvSchema } from './config.js';
import { startServer } from './server.js';

/**
 * Logs connection state changes once per change, and failed connection attempts while Redis
 * is down at most once per 10 s, so that a wrong REDIS_URL shows at start-up.
 */
function watchRedis(gateway: ReturnType<typeof createApp>): void {
  const { redis, logger, metrics } = gateway.services;
  let up = false;
  const logAttemptFailure = throttledErrorLog(
    logger,
    'redis connection attempt failed',
    {},
    { level: 'warn' },
  );
  redis.on('ready', () => {
    metrics.redisUp.set(1);
    if (!up) logger.info('redis connection ready');
    up = true;
  });
  redis.on('close', () => {
    metrics.redisUp.set(0);
    if (up) logger.warn('redis connection lost');
    up = false;
  });
  // The err serializer keeps type, message, code and stack; a connection error's message names
  // the host and port, never the credentials of REDIS_URL.
  redis.on('error', (error: Error) => {
    if (up) logger.warn({ err: error }, 'redis connection error');
    else logAttemptFailure(error);
  });
}

async function main(): Promise<void> {
  const config = loadConfig(gatewayEnvSchema);
  const logger = createLogger('gateway', config.LOG_LEVEL);
  const redis = createRedis(config.REDIS_URL, {
    role: 'producer',
    commandTimeoutMs: config.REDIS_COMMAND_TIMEOUT_MS,
    connectionName: 'medai-gateway',
    autoPipelining: true,
  });
  const gateway = createApp({ config, redis, logger });
  watchRedis(gateway);
  const server = await startServer(gateway, config);
  logger.info({ port: server.port, host: config.HOST }, 'gateway listening');

  let stopping = false;
  const stop = async (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'gateway stopping');
    const results = await Promise.allSettled([server.close(), gateway.close()]);
    redis.disconnect();
    for (const result of results) {
      if (result.status === 'rejected') logger.error({ err: result.reason }, 'shutdown step failed');
    }
    logger.info('gateway stopped');
    process.exit(0);
  };
  process.once('SIGTERM', (signal) => void stop(signal));
  process.once('SIGINT', (signal) => void stop(signal));
}

main().catch((error: unknown) => {
  const logger = createLogger('gateway', 'info');
  if (error instanceof ConfigError) {
    logger.fatal({ issues: error.issues }, 'invalid configuration');
  } else if (error instanceof ListenError) {
    const { variable, host, port, code, reason } = error;
    logger.fatal({ variable, host, port, code, reason }, 'listen failed');
  } else {
    logger.fatal({ err: error }, 'gateway failed to start');
  }
  process.exit(1);
});
