import { readFileSync } from 'node:fs';
import type { Hono } from 'hono';
import { GatewayError } from '../errors/gateway-error.js';
import type { GatewayEnv } from '../http/context.js';
import { respond, respondJson } from '../http/respond.js';
import { limitByAddress } from '../middleware/rate-limit/index.js';
import type { GatewayServices } from '../services.js';

/** Name and version of this build, from the package manifest next to dist/. */
function packageVersion(): { name: string; version: string } {
  const manifest = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    name: string;
    version: string;
  };
  return { name: manifest.name, version: manifest.version };
}

/**
 * Probes, version and metrics. `/healthz` and `/metrics` never touch Redis, so they keep
 * responding while it is down; `/readyz` reports whether Redis responds.
 */
export function registerHealthRoutes(app: Hono<GatewayEnv>, services: GatewayServices): void {
  const { name, version } = packageVersion();
  const versionBody = { name, version, commit: services.config.GIT_COMMIT };
  const anonymousLimit = limitByAddress({
    addresses: services.addresses,
    edge: services.edge,
    metrics: services.metrics,
    policy: services.policies.anonymous,
    now: () => services.clock.now(),
  });

  app.get('/healthz', (c) => respondJson(c, { status: 'ok' }));

  app.get('/readyz', async (c) => {
    try {
      await services.redisCalls.run('ping', () => services.redis.ping());
    } catch (error) {
      if (!(error instanceof GatewayError)) throw error;
      throw new GatewayError('redis_unavailable', 'not ready: Redis does not respond', {
        retryAfterSeconds: services.config.REDIS_RETRY_AFTER_SECONDS,
        cause: error,
      });
    }
    return respondJson(c, { status: 'ready' });
  });

  app.get('/version', anonymousLimit, (c) => respondJson(c, versionBody));

  // Server metadata of the open inference protocol (v2). The gateway implements none of the
  // protocol's optional extensions, so the list is empty.
  const serverMetadata = { name, version, extensions: [] };
  app.get('/v2', anonymousLimit, (c) => respondJson(c, serverMetadata));

  app.get('/metrics', async (c) => {
    const { registry } = services.metrics;
    return respond(c, await registry.metrics(), 200, { 'content-type': registry.contentType });
  });
}
