import { ServiceProcess, type SpawnOptions } from '@medai-flow/testkit';
import { builtEntryPoints, modelMirrorDir, modelRepositoryDir } from './paths.js';

export { type LogLine, ServiceProcess } from '@medai-flow/testkit';

/** Starts a worker process; it logs `worker ready` with `metricsPort` once it consumes its queues. */
export async function startWorker(
  env: Record<string, string>,
  options: SpawnOptions = {},
): Promise<ServiceProcess & { metricsPort: number }> {
  const worker = ServiceProcess.spawn(
    'worker',
    builtEntryPoints.worker,
    { MODEL_REPOSITORY: modelRepositoryDir, MODEL_MIRROR_DIR: modelMirrorDir, METRICS_PORT: '0', ...env },
    options,
  );
  const ready = await worker.waitForLog((line) => line.msg === 'worker ready', 60_000);
  return Object.assign(worker, { metricsPort: Number(ready.metricsPort) });
}

/** Starts a gateway process; it logs `gateway listening` with `port` once it accepts requests. */
export async function startGateway(
  env: Record<string, string>,
): Promise<ServiceProcess & { port: number; baseUrl: string }> {
  const gateway = ServiceProcess.spawn('gateway', builtEntryPoints.gateway, {
    PORT: '0',
    HOST: '127.0.0.1',
    ...env,
  });
  const ready = await gateway.waitForLog((line) => line.msg === 'gateway listening', 30_000);
  const port = Number(ready.port);
  return Object.assign(gateway, { port, baseUrl: `http://127.0.0.1:${port}` });
}
