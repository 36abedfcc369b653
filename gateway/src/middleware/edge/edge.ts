import type { MiddlewareHandler } from 'hono';
import type { GatewayEnv } from '../../http/context.js';
import { problemFor, problemResponse } from '../../http/problem.js';
import { type GatewayMetrics, UNMATCHED_ROUTE } from '../../metrics/catalog.js';
import { recordRequest, routeLabel } from '../metrics/index.js';
import { hasUnsafePath, unsafePathError } from '../path-guard/index.js';
import { applyResponseHeaders, newResponseHeaders, requestIdFor } from '../security-headers/index.js';

/**
 * Creates the app-wide middleware of every request. It sets the request id and the security
 * headers, rejects the paths `hasUnsafePath` finds with 400 before routing, and counts and
 * times the request. It is one middleware rather than one per concern, because each Hono
 * middleware adds an async dispatch level (promises and closures) to every request.
 */
export function edge(metrics: GatewayMetrics): MiddlewareHandler<GatewayEnv> {
  return async function edge(c, next) {
    const startedAt = performance.now();
    const requestId = requestIdFor(c.req.header('x-request-id'));
    const headers = newResponseHeaders(requestId);
    c.set('requestId', requestId);
    c.set('responseHeaders', headers);
    // A rejected path reached no route, although the router would match its normalized form.
    const unsafe = hasUnsafePath(c);
    try {
      if (unsafe) c.res = problemResponse(c, problemFor(unsafePathError(), requestId));
      else await next();
    } finally {
      applyResponseHeaders(c, headers);
      recordRequest(metrics, c, unsafe ? UNMATCHED_ROUTE : routeLabel(c), startedAt);
    }
  };
}
