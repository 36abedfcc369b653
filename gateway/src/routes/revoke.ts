import { sha256Hex } from '@medai-flow/common';
import type { Hono, MiddlewareHandler } from 'hono';
import { z } from 'zod';
import { hasPermission } from '../auth/principal.js';
import { GatewayError } from '../errors/gateway-error.js';
import { readLimitedBody } from '../http/body.js';
import type { GatewayEnv } from '../http/context.js';
import { parseJsonBody } from '../http/json-body.js';
import type { GatewayServices } from '../services.js';

const MAX_REVOKE_BODY_BYTES = 4_096;

const RevokeRequestSchema = z
  .object({
    jti: z.string().min(1).max(256).optional(),
    sub: z.string().min(1).max(256).optional(),
  })
  .strict()
  .refine((body) => body.jti === undefined || body.sub === undefined, {
    message: 'give jti or sub, not both',
  });
type RevokeRequest = z.infer<typeof RevokeRequestSchema>;

async function parseRevokeRequest(request: Request): Promise<RevokeRequest> {
  const body = await readLimitedBody(request, MAX_REVOKE_BODY_BYTES);
  if (body.byteLength === 0) return {};
  return parseJsonBody(body, RevokeRequestSchema);
}

/**
 * `POST /v1/auth/revoke`: `{}` revokes the presented token; with `admin`, `{"jti"}` revokes
 * that token id and `{"sub"}` every token of the subject issued until now.
 */
export function registerRevokeRoute(
  app: Hono<GatewayEnv>,
  services: GatewayServices,
  anyToken: MiddlewareHandler<GatewayEnv>,
): void {
  const { config, clock, logger } = services;
  const keepSeconds = config.AUTH_MAX_TOKEN_LIFETIME_SECONDS + config.AUTH_CLOCK_TOLERANCE_SECONDS;

  app.post('/v1/auth/revoke', anyToken, async (c) => {
    const principal = c.get('principal');
    const request = await parseRevokeRequest(c.req.raw);
    const nowSeconds = Math.floor(clock.now() / 1000);
    if ((request.jti !== undefined || request.sub !== undefined) && !hasPermission(principal, 'admin')) {
      services.metrics.authFailures.inc({ reason: 'insufficient_scope' });
      throw new GatewayError(
        'insufficient_scope',
        'revoking another token or a subject needs the admin permission',
        {
          requiredScope: 'admin',
        },
      );
    }
    let target: 'self' | 'jti' | 'sub' = 'self';
    if (request.sub !== undefined) {
      target = 'sub';
      const subject = request.sub;
      // Tokens issued up to the clock tolerance after now are revoked too: an issuer whose clock
      // runs that far ahead may already have issued them, with an `iat` the gateway accepts.
      const revokedUntil = nowSeconds + config.AUTH_CLOCK_TOLERANCE_SECONDS;
      await services.redisCalls.run('revoke', () =>
        services.revocations.revokeSubject(
          subject,
          revokedUntil,
          keepSeconds + config.AUTH_CLOCK_TOLERANCE_SECONDS,
        ),
      );
    } else {
      const tokenId = request.jti ?? principal.tokenId;
      if (request.jti !== undefined) target = 'jti';
      const ttl =
        request.jti !== undefined
          ? keepSeconds
          : principal.expiresAt - nowSeconds + config.AUTH_CLOCK_TOLERANCE_SECONDS;
      await services.redisCalls.run('revoke', () => services.revocations.revokeToken(tokenId, ttl));
    }
    logger.info({ requestId: c.get('requestId'), sub: principal.subject, target }, 'token revoked');
    await services.audit.record(
      {
        action: target === 'sub' ? 'subject.revoked' : 'token.revoked',
        actor: principal.subject,
        requestId: c.get('requestId'),
        targetSha256: sha256Hex(request.sub ?? request.jti ?? principal.tokenId),
      },
      logger,
    );
    return c.body(null, 204);
  });
}
