import type { Context, MiddlewareHandler } from 'hono';
import { bearerToken } from '../../auth/bearer.js';
import { hasPermission, type Permission, type Principal } from '../../auth/principal.js';
import type { TokenVerifier } from '../../auth/token-verifier.js';
import { GatewayError } from '../../errors/gateway-error.js';
import type { GatewayEnv } from '../../http/context.js';
import type { ClientAddressResolver } from '../../limits/client-address.js';
import type { EdgeCheck } from '../../limits/edge-check.js';
import type { GatewayMetrics } from '../../metrics/catalog.js';
import {
  type AddressLimitDeps,
  enforceAddressLimit,
  enforceLimit,
  type LimitPolicies,
  requireAddressBudget,
} from '../rate-limit/index.js';
import { revokedError } from '../revocation/index.js';

export interface AuthDeps {
  verifier: TokenVerifier;
  addresses: ClientAddressResolver;
  edge: EdgeCheck;
  metrics: GatewayMetrics;
  policies: LimitPolicies;
  now: () => number;
}

/** Failures that cost the gateway a token check: bad, expired or revoked tokens and malformed credentials. */
const LIMITED_FAILURES = new Set([
  'credentials_malformed',
  'token_invalid',
  'token_expired',
  'token_revoked',
]);

/**
 * Awaits a step of the failed-token limit and rethrows only its 429. When Redis fails in such
 * a step, the request goes on as it would without the limit: a bad token keeps its 401, and a
 * new token is verified, after which the edge check fails closed.
 */
async function unlessRateLimited(step: Promise<void>): Promise<void> {
  try {
    await step;
  } catch (error) {
    if (error instanceof GatewayError && error.code === 'rate_limited') throw error;
  }
}

function countFailure(metrics: GatewayMetrics, error: unknown): void {
  if (error instanceof GatewayError && error.reason !== undefined) {
    metrics.authFailures.inc({ reason: error.reason });
  }
}

/**
 * Authenticates a request: verifies the bearer token (cached per token), then checks
 * revocation and the subject's rate limit in one Redis round trip, then the permission.
 * `permission` null admits any valid token.
 */
export function requireToken(deps: AuthDeps, permission: Permission | null): MiddlewareHandler<GatewayEnv> {
  // Failed tokens count against the client address with the anonymous limit. Over it, a token
  // not verified before gets 429 without a signature check, the step forged tokens cost, and a
  // failed token gets 429 in place of its 401.
  const failureLimit: AddressLimitDeps = { ...deps, policy: deps.policies.anonymous };
  const verifyWithinBudget = async (c: Context<GatewayEnv>, token: string): Promise<Principal> => {
    await unlessRateLimited(requireAddressBudget(c, failureLimit));
    return deps.verifier.verify(token);
  };

  return async function requireToken(c, next) {
    let principal: Principal;
    try {
      const token = bearerToken(c.req.header('authorization'));
      principal = deps.verifier.cached(token) ?? (await verifyWithinBudget(c, token));
      const policy = deps.policies[principal.tier];
      const verdict = await deps.edge.check({ principal }, policy, deps.now());
      if (verdict.kind === 'revoked') throw revokedError(verdict.scope);
      enforceLimit(c, verdict, deps.metrics);
      if (permission !== null && !hasPermission(principal, permission)) {
        throw new GatewayError('insufficient_scope', `the token lacks the ${permission} permission`, {
          requiredScope: permission,
          reason: 'insufficient_scope',
        });
      }
    } catch (error) {
      countFailure(deps.metrics, error);
      if (error instanceof GatewayError && LIMITED_FAILURES.has(error.code)) {
        await unlessRateLimited(enforceAddressLimit(c, failureLimit));
      }
      throw error;
    }
    c.set('principal', principal);
    await next();
  };
}
