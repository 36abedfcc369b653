export { type WorkerConfig, workerEnvSchema } from './schema.js';
