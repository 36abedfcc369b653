import { Hono } from 'hono';
import { methodAwareNotFound } from './http/allowed-methods.js';
import { type Clock, type GatewayEnv, systemClock } from './http/context.js';
import { problemFor, problemResponse } from './http/problem.js';
import { clientClosedError, isClientAbort, requestFailureLog } from './http/request-errors.js';
import { createGatewayMetrics, type GatewayMetrics } from './metrics/catalog.js';
import { type AuthDeps, requireToken } from './middleware/auth/index.js';
import { edge } from './middleware/edge/index.js';
import { corsAllowlist } from './middleware/security-headers/index.js';
import { registerHealthRoutes } from './routes/health.js';
import { registerJobRoutes } from './routes/jobs.js';
import { registerModelRoutes } from './routes/models.js';
import { registerRevokeRoute } from './routes/revoke.js';
import { registerV2Routes } from './routes/v2.js';
import { createServices, type GatewayDeps, type GatewayServices } from './services.js';

export interface CreateAppOptions extends Omit<GatewayDeps, 'clock'> {
  /** Default: the system clock. */
  clock?: Clock;
  /** Default: new metrics on a new registry. */
  metrics?: GatewayMetrics;
}

/** The gateway's HTTP app and what must be closed with it. */
export interface GatewayApp {
  app: Hono<GatewayEnv>;
  services: GatewayServices;
  /** Wakes waiting requests and closes the BullMQ queues; the Redis connection belongs to the caller. */
  close(): Promise<void>;
}

function registerErrorHandlers(app: Hono<GatewayEnv>, services: GatewayServices): void {
  app.notFound(methodAwareNotFound(() => app.routes));
  const logFailure = requestFailureLog(services.logger);
  app.onError((error, c) => {
    const requestId = c.get('requestId');
    if (isClientAbort(error, c.env?.incoming))
      return problemResponse(c, problemFor(clientClosedError(error), requestId));
    const parts = problemFor(error, requestId);
    if (parts.status >= 500) logFailure(error, requestId, parts.status);
    return problemResponse(c, parts);
  });
}

/** Builds the gateway app: middleware in the order every response needs, then the routes. */
export function createApp(options: CreateAppOptions): GatewayApp {
  const metrics = options.metrics ?? createGatewayMetrics();
  const services = createServices({ ...options, clock: options.clock ?? systemClock }, metrics);
  const app = new Hono<GatewayEnv>();

  app.use(edge(metrics));
  if (services.config.CORS_ALLOWED_ORIGINS.length > 0)
    app.use(corsAllowlist(services.config.CORS_ALLOWED_ORIGINS));
  registerErrorHandlers(app, services);

  const authDeps: AuthDeps = { ...services, now: () => services.clock.now() };
  registerHealthRoutes(app, services);
  registerModelRoutes(app, services, requireToken(authDeps, 'jobs:read'));
  registerJobRoutes(app, services, {
    canRead: requireToken(authDeps, 'jobs:read'),
    canWrite: requireToken(authDeps, 'jobs:write'),
  });
  registerRevokeRoute(app, services, requireToken(authDeps, null));

  registerV2Routes(app, services, {
    canRead: requireToken(authDeps, 'jobs:read'),
    canWrite: requireToken(authDeps, 'jobs:write'),
  });

  const close = async () => {
    // Waiting requests are woken first, so the HTTP server's close is not held up by them.
    services.waiter.close();
    await services.jobs.close();
  };
  return { app, services, close };
}
