import type { Context, MiddlewareHandler } from 'hono';
import type { LimitTier } from '../../auth/principal.js';
import type { GatewayConfig } from '../../config.js';
import { GatewayError } from '../../errors/gateway-error.js';
import type { GatewayEnv } from '../../http/context.js';
import { setResponseHeader } from '../../http/respond.js';
import type { ClientAddressResolver } from '../../limits/client-address.js';
import type { EdgeCheck, EdgeVerdict, LimitPolicy } from '../../limits/edge-check.js';
import type { GatewayMetrics } from '../../metrics/catalog.js';
import { routeLabel } from '../metrics/index.js';

/** Peer label when the server adapter gives no socket (only under `app.request()` in tests). */
const UNKNOWN_PEER = 'unknown';

/** Limit policies of the permission tiers and of unauthenticated callers. */
export type LimitPolicies = Record<LimitTier | 'anonymous', LimitPolicy>;

export function limitPolicies(config: GatewayConfig): LimitPolicies {
  return {
    standard: { name: 'standard', limit: config.RATE_LIMIT_PER_MINUTE, windowSeconds: 60 },
    admin: { name: 'admin', limit: config.RATE_LIMIT_ADMIN_PER_MINUTE, windowSeconds: 60 },
    anonymous: { name: 'anonymous', limit: config.RATE_LIMIT_ANON_PER_MINUTE, windowSeconds: 60 },
  };
}

/**
 * Sets the IETF `RateLimit-Policy` and `RateLimit` headers of an edge-check verdict and counts
 * it; throws 429 when the request is over its limit. Revocation verdicts are left to the caller.
 */
export function enforceLimit(c: Context<GatewayEnv>, verdict: EdgeVerdict, metrics: GatewayMetrics): void {
  if (verdict.kind === 'revoked') return;
  const route = routeLabel(c);
  const { name, limit, windowSeconds } = verdict.policy;
  const remaining = verdict.kind === 'allowed' ? verdict.remaining : 0;
  setResponseHeader(c, 'ratelimit-policy', `"${name}";q=${limit};w=${windowSeconds}`);
  setResponseHeader(c, 'ratelimit', `"${name}";r=${remaining};t=${Math.ceil(verdict.resetMs / 1000)}`);
  metrics.rateLimitHits.inc({ route });
  if (verdict.kind === 'limited') {
    metrics.rateLimitExceeded.inc({ route });
    throw new GatewayError(
      'rate_limited',
      `the rate limit of ${limit} requests per ${windowSeconds} s is exceeded`,
      {
        retryAfterSeconds: verdict.retryAfterMs / 1000,
      },
    );
  }
}

export interface AddressLimitDeps {
  addresses: ClientAddressResolver;
  edge: EdgeCheck;
  metrics: GatewayMetrics;
  policy: LimitPolicy;
  now: () => number;
}

/**
 * Counts a request against the limit of its client address: the socket peer, or behind
 * trusted proxies the first untrusted `X-Forwarded-For` hop, and for IPv6 its /64. Throws
 * 429 when the address is over `deps.policy`.
 */
export async function enforceAddressLimit(c: Context<GatewayEnv>, deps: AddressLimitDeps): Promise<void> {
  const verdict = await deps.edge.check({ address: addressBucket(c, deps) }, deps.policy, deps.now());
  enforceLimit(c, verdict, deps.metrics);
}

/** Throws 429 when the client address is over `deps.policy` already, without counting the request. */
export async function requireAddressBudget(c: Context<GatewayEnv>, deps: AddressLimitDeps): Promise<void> {
  const verdict = await deps.edge.check({ address: addressBucket(c, deps) }, deps.policy, deps.now(), 'peek');
  if (verdict.kind === 'limited') enforceLimit(c, verdict, deps.metrics);
}

function addressBucket(c: Context<GatewayEnv>, deps: AddressLimitDeps): string {
  const peer = c.env?.incoming?.socket?.remoteAddress ?? UNKNOWN_PEER;
  return deps.addresses.bucketOf(deps.addresses.resolve(peer, c.req.header('x-forwarded-for')));
}

/** Limits an unauthenticated route per client address (`enforceAddressLimit`). */
export function limitByAddress(deps: AddressLimitDeps): MiddlewareHandler<GatewayEnv> {
  return async function limitByAddress(c, next) {
    await enforceAddressLimit(c, deps);
    await next();
  };
}
