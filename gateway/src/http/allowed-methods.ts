import { TrieRouter } from 'hono/router/trie-router';
import type { NotFoundHandler, RouterRoute } from 'hono/types';
import { GatewayError } from '../errors/gateway-error.js';
import type { GatewayEnv } from './context.js';
import { buildProblem, problemResponse } from './problem.js';

/** Method of middleware registered with `app.use`; such entries are not routes. */
const MIDDLEWARE_METHOD = 'ALL';

/** Finds the methods that the registered routes serve on a path, sorted; empty for an unknown path. */
export type AllowedMethods = (path: string) => string[];

/**
 * Builds the method lookup from the app's registered routes (`app.routes`), matched with
 * Hono's own path syntax, so that it never drifts from the routing table. Hono serves HEAD
 * with the GET handler, so a path with GET also allows HEAD.
 */
export function allowedMethodsOf(routes: readonly RouterRoute[]): AllowedMethods {
  const router = new TrieRouter<string>();
  for (const route of routes) {
    if (route.method !== MIDDLEWARE_METHOD) router.add(MIDDLEWARE_METHOD, route.path, route.method);
  }
  return (path) => {
    const methods = new Set(router.match(MIDDLEWARE_METHOD, path)[0].map(([method]) => method));
    if (methods.has('GET')) methods.add('HEAD');
    return [...methods].sort();
  };
}

/**
 * Rejects a request that no route handled: 405 `method-not-allowed` with `Allow` when routes serve
 * its path under other methods, else 404. `routes` is read on the first such request, once
 * every route has been registered.
 */
export function methodAwareNotFound(routes: () => readonly RouterRoute[]): NotFoundHandler<GatewayEnv> {
  let allowedMethods: AllowedMethods | undefined;
  return function methodAwareNotFound(c) {
    allowedMethods ??= allowedMethodsOf(routes());
    const allowed = allowedMethods(c.req.path);
    if (allowed.length === 0) {
      const error = new GatewayError('route_not_found', 'no route matches this path');
      return problemResponse(c, buildProblem(error, c.get('requestId')));
    }
    const error = new GatewayError(
      'method_not_allowed',
      `${c.req.method.slice(0, 16)} is not allowed on this path; allowed methods are ${allowed.join(', ')}`,
      { extensions: { allowed } },
    );
    const parts = buildProblem(error, c.get('requestId'));
    return problemResponse(c, { ...parts, headers: { ...parts.headers, allow: allowed.join(', ') } });
  };
}
