import { ConfigError, createLogger, ListenError, loadConfig } from '@medai-flow/common';
import { workerEnvSchema } from './config/index.js';
import { ModelLoadError } from './errors.js';
import { startWorkerService, type WorkerService } from './service.js';

async function main(): Promise<void> {
  let config: ReturnType<typeof loadConfig<typeof workerEnvSchema>>;
  try {
    config = loadConfig(workerEnvSchema);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    // The configured level is unknown here, so the line is logged at the default level.
    createLogger('worker', 'info').fatal({ issues: error.issues }, 'invalid configuration');
    process.exit(1);
  }
  const logger = createLogger('worker', config.LOG_LEVEL);
  let service: WorkerService;
  try {
    service = await startWorkerService(config, logger);
  } catch (error) {
    if (error instanceof ModelLoadError)
      logger.fatal({ model: error.model, code: error.code, error: error.message }, 'model load failed');
    else if (error instanceof ListenError) {
      const { variable, host, port, code, reason } = error;
      logger.fatal({ variable, host, port, code, reason }, 'listen failed');
    } else logger.fatal({ err: error }, 'worker start failed');
    process.exit(1);
  }
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'worker stopping');
    void service.close().then((failures) => {
      for (const { step, error } of failures) logger.error({ step, err: error }, 'shutdown step failed');
      logger.info('worker stopped');
      process.exit(failures.length === 0 ? 0 : 1);
    });
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  logger.info(
    {
      metricsPort: service.metricsPort,
      models: service.runtimes.map(({ manifest }) => manifest.name),
      workerId: service.workerId,
    },
    'worker ready',
  );
}

void main();
