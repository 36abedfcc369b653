import type { Context } from 'hono';
import { matchedRoutes } from 'hono/route';
import type { GatewayEnv } from '../../http/context.js';
import { type GatewayMetrics, UNMATCHED_ROUTE } from '../../metrics/catalog.js';

const KNOWN_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

/**
 * The route template that answered the request (`/v1/jobs/:id`), or `unmatched` when only
 * app-wide middleware matched, so that unknown paths never create new label values.
 */
export function routeLabel(c: Context<GatewayEnv>): string {
  const routes = matchedRoutes(c);
  for (let index = routes.length - 1; index >= 0; index--) {
    const route = routes[index];
    if (route && route.method !== 'ALL') return route.path;
  }
  return UNMATCHED_ROUTE;
}

function methodLabel(method: string): string {
  return KNOWN_METHODS.has(method) ? method : 'OTHER';
}

/** Counts and times a request by `route` (a template or `unmatched`), method and status, once it has its response. */
export function recordRequest(
  metrics: GatewayMetrics,
  c: Context<GatewayEnv>,
  route: string,
  startedAt: number,
): void {
  const method = methodLabel(c.req.method);
  metrics.httpRequests.inc({ route, method, status: String(c.res.status) });
  metrics.httpDuration.observe({ route, method }, (performance.now() - startedAt) / 1000);
}
