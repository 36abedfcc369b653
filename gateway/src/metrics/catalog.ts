import { Counter, Gauge, Histogram, Registry } from 'prom-client';

/** Redis operations the gateway times, the only values of the `operation` label. */
export type RedisOperation =
  | 'edge_check'
  | 'revoke'
  | 'ping'
  | 'model_read'
  | 'job_read'
  | 'job_write'
  | 'job_enqueue'
  | 'job_cancel'
  | 'queue_read'
  | 'idempotency';

/** Route label of every request that matched no route, so unknown paths add one series at most. */
export const UNMATCHED_ROUTE = 'unmatched';

/** The gateway's metrics, with the names and labels of the design, on an explicit registry. */
export interface GatewayMetrics {
  registry: Registry;
  httpRequests: Counter<'route' | 'method' | 'status'>;
  httpDuration: Histogram<'route' | 'method'>;
  rateLimitHits: Counter<'route'>;
  rateLimitExceeded: Counter<'route'>;
  authFailures: Counter<'reason'>;
  jobsSubmitted: Counter<'model'>;
  redisUp: Gauge;
  redisDuration: Histogram<'operation'>;
}

export function createGatewayMetrics(registry = new Registry()): GatewayMetrics {
  const registers = [registry];
  return {
    registry,
    httpRequests: new Counter({
      name: 'http_requests_total',
      help: 'HTTP requests answered, by route template, method and status.',
      labelNames: ['route', 'method', 'status'],
      registers,
    }),
    httpDuration: new Histogram({
      name: 'http_request_duration_seconds',
      help: 'Time from request to response headers, by route template and method.',
      labelNames: ['route', 'method'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers,
    }),
    rateLimitHits: new Counter({
      name: 'rate_limit_hits_total',
      help: 'Requests checked by the rate limiter, by route template.',
      labelNames: ['route'],
      registers,
    }),
    rateLimitExceeded: new Counter({
      name: 'rate_limit_exceeded_total',
      help: 'Requests rejected with 429 by the rate limiter, by route template.',
      labelNames: ['route'],
      registers,
    }),
    authFailures: new Counter({
      name: 'auth_failures_total',
      help: 'Requests rejected by authentication or authorization, by reason.',
      labelNames: ['reason'],
      registers,
    }),
    jobsSubmitted: new Counter({
      name: 'jobs_submitted_total',
      help: 'Jobs accepted and queued, by model.',
      labelNames: ['model'],
      registers,
    }),
    redisUp: new Gauge({
      name: 'redis_up',
      help: '1 while the gateway connection to Redis is ready, else 0.',
      registers,
    }),
    redisDuration: new Histogram({
      name: 'redis_operation_duration_seconds',
      help: 'Duration of Redis operations, by operation.',
      labelNames: ['operation'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    }),
  };
}
