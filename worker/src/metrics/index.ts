export {
  type JobOutcome,
  QUEUE_DEPTH_STATES,
  type QueueDepthSource,
  type QueueDepthState,
  WorkerMetrics,
} from './catalogue.js';
export { MetricsServer, type ReadinessCheck } from './server.js';
