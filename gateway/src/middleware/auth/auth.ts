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
 * Counts a failed token against its client address with the anonymous limit, so that one
 * address cannot make the gateway verify forged tokens without bound: over the limit, the
 * request gets 429 in place of its 401. When Redis fails here, the request keeps its 401.
 */
async function limitFailure(c: Context<GatewayEnv>, deps: AuthDeps, error: unknown): Promise<void> {
  if (!(error instanceof GatewayError) || !LIMITED_FAILURES.has(error.code)) return;
  try {
    await enforceAddressLimit(c, { ...deps, policy: deps.policies.anonymous });
  } catch (limitError) {
    if (limitError instanceof GatewayError && limitError.code === 'rate_limited') throw limitError;
  }
}

/**
 * Verifies a token that is not cached yet, unless the client address has used up its budget
 * of failed tokens (429). The signature check is the expensive step that forged tokens cost.
 * When Redis fails here, the token is verified anyway; the edge check after it fails closed.
 */
async function verifyWithinBudget(c: Context<GatewayEnv>, deps: AuthDeps, token: string): Promise<Principal> {
  try {
    await requireAddressBudget(c, { ...deps, policy: deps.policies.anonymous });
  } catch (error) {
    if (error instanceof GatewayError && error.code === 'rate_limited') throw error;
  }
  return deps.verifier.verify(token);
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
  return async function requireToken(c, next) {
    let principal: Principal;
    try {
      const token = bearerToken(c.req.header('authorization'));
      principal = deps.verifier.cached(token) ?? (await verifyWithinBudget(c, deps, token));
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
      await limitFailure(c, deps, error);
      throw error;
    }
    c.set('principal', principal);
    await next();
  };
}
