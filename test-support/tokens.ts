import { randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';

/** The HS256 development secret the tests configure (32 bytes or more, as the gateway requires). */
export const testJwtSecret = 'test-secret-for-medai-flow-tests-only-0123456789';

export interface TokenOptions {
  sub?: string;
  scope?: string;
  roles?: string[];
  /** Seconds from now; negative for an expired token. Default 300. */
  expiresInSeconds?: number;
  notBeforeSeconds?: number;
  issuer?: string;
  audience?: string;
  jti?: string | null;
  secret?: string;
  claims?: Record<string, unknown>;
}

/** Mints an HS256 token; by default for subject `alice` with `jobs:read jobs:write`. */
export async function mintToken(options: TokenOptions = {}): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const jwt = new SignJWT({
    scope: options.scope ?? 'jobs:read jobs:write',
    ...(options.roles ? { roles: options.roles } : {}),
    ...options.claims,
  })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(options.sub ?? 'alice')
    .setIssuedAt(now)
    .setExpirationTime(now + (options.expiresInSeconds ?? 300));
  if (options.jti !== null) jwt.setJti(options.jti ?? randomUUID());
  if (options.notBeforeSeconds !== undefined) jwt.setNotBefore(now + options.notBeforeSeconds);
  if (options.issuer) jwt.setIssuer(options.issuer);
  if (options.audience) jwt.setAudience(options.audience);
  return jwt.sign(new TextEncoder().encode(options.secret ?? testJwtSecret));
}
