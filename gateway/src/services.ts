import { AuditLog, JobStore, type Logger, ModelRegistry, type Redis, RedisKeys } from '@medai-flow/common';
import { createKeySource } from './auth/key-source.js';
import { RevocationStore } from './auth/revocation-store.js';
import { TokenVerifier } from './auth/token-verifier.js';
import type { GatewayConfig } from './config.js';
import type { Clock } from './http/context.js';
import { IdempotencyStore } from './jobs/idempotency.js';
import { JobLifecycle } from './jobs/job-lifecycle.js';
import { JobService } from './jobs/job-service.js';
import { ModelCatalog } from './jobs/model-catalog.js';
import { QueueState } from './jobs/queue-state.js';
import { SubmissionService } from './jobs/submission.js';
import { JobEndWaiter } from './jobs/waiter.js';
import { ClientAddressResolver } from './limits/client-address.js';
import { EdgeCheck } from './limits/edge-check.js';
import type { GatewayMetrics } from './metrics/catalog.js';
import { type LimitPolicies, limitPolicies } from './middleware/rate-limit/index.js';
import { RedisCalls } from './redis/redis-calls.js';

/** Dependencies of the app factory; tests pass their own Redis, clock and config. */
export interface GatewayDeps {
  config: GatewayConfig;
  /** A producer connection (`createRedis(url, { role: 'producer' })`): no offline queue, command timeout. */
  redis: Redis;
  logger: Logger;
  clock: Clock;
}

/** Every service the routes and middleware use, built once per app. */
export interface GatewayServices extends GatewayDeps {
  metrics: GatewayMetrics;
  keys: RedisKeys;
  redisCalls: RedisCalls;
  verifier: TokenVerifier;
  edge: EdgeCheck;
  revocations: RevocationStore;
  addresses: ClientAddressResolver;
  policies: LimitPolicies;
  catalog: ModelCatalog;
  /** Job records and inputs in Redis. */
  store: JobStore;
  jobs: JobService;
  queueState: QueueState;
  submissions: SubmissionService;
  lifecycle: JobLifecycle;
  /** The hash-chained audit trail shared with the workers. */
  audit: AuditLog;
  waiter: JobEndWaiter;
}

export function createServices(deps: GatewayDeps, metrics: GatewayMetrics): GatewayServices {
  const { config, redis, clock } = deps;
  const keys = new RedisKeys(config.REDIS_PREFIX);
  // Two command timeouts bound an operation of several commands (a queue add), so a slow Redis
  // still gives a 503 in bounded time.
  const redisCalls = new RedisCalls(metrics, {
    timeoutMs: config.REDIS_COMMAND_TIMEOUT_MS * 2,
    retryAfterSeconds: config.REDIS_RETRY_AFTER_SECONDS,
  });
  const verifier = new TokenVerifier(createKeySource(config), {
    issuer: config.AUTH_ISSUER,
    audience: config.AUTH_AUDIENCE,
    clockToleranceSeconds: config.AUTH_CLOCK_TOLERANCE_SECONDS,
    maxLifetimeSeconds: config.AUTH_MAX_TOKEN_LIFETIME_SECONDS,
    cacheSeconds: config.AUTH_TOKEN_CACHE_SECONDS,
    cacheSize: config.AUTH_TOKEN_CACHE_SIZE,
    clock,
  });
  const store = new JobStore(redis, keys, {
    resultTtlSeconds: config.RESULT_TTL_SECONDS,
    goneTtlSeconds: config.GONE_TTL_SECONDS,
  });
  const registry = new ModelRegistry(redis, keys, { now: () => clock.now() });
  const audit = new AuditLog(redis, keys, () => clock.now());
  const jobs = new JobService(redis, keys, store, redisCalls, clock, deps.logger, {
    maxJobsPerSubject: config.QUEUE_MAX_JOBS_PER_SUBJECT,
    maxBytesPerSubject: config.QUEUE_MAX_BYTES_PER_SUBJECT,
  });
  const queueState = new QueueState(redis, (model) => jobs.queueOf(model), store, redisCalls, clock, {
    maxDepth: config.QUEUE_MAX_DEPTH,
    maxDepthByModel: config.QUEUE_MAX_DEPTH_OVERRIDES,
    maxRetryAfterSeconds: config.QUEUE_FULL_MAX_RETRY_AFTER_SECONDS,
  });
  const idempotency = new IdempotencyStore(redis, keys, redisCalls, config.IDEMPOTENCY_TTL_SECONDS);
  return {
    ...deps,
    metrics,
    keys,
    redisCalls,
    verifier,
    edge: new EdgeCheck(redis, keys, redisCalls),
    revocations: new RevocationStore(redis, keys),
    addresses: new ClientAddressResolver(config.TRUSTED_PROXIES),
    policies: limitPolicies(config),
    catalog: new ModelCatalog(registry, redisCalls, clock, config.MODEL_CACHE_MS),
    store,
    jobs,
    queueState,
    submissions: new SubmissionService(jobs, idempotency, queueState, metrics, audit, deps.logger, {
      quotaRetryAfterSeconds: config.QUEUE_QUOTA_RETRY_AFTER_SECONDS,
    }),
    lifecycle: new JobLifecycle(jobs, store, queueState, redisCalls, clock, audit, deps.logger),
    audit,
    waiter: new JobEndWaiter(redis, deps.logger, {
      channel: keys.jobEndedChannel,
      pollMs: config.JOB_WAIT_POLL_MS,
      subscribeTimeoutMs: config.REDIS_COMMAND_TIMEOUT_MS,
    }),
  };
}
