import { randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';

export interface DevelopmentTokenOptions {
  secret: string;
  subject?: string;
  /** Space-separated permissions. Default `jobs:read jobs:write`. */
  scope?: string;
  /** Lifetime in seconds. Default 3600. */
  ttlSeconds?: number;
  issuer?: string;
  audience?: string;
}

/** Signs an HS256 development token; the gateway accepts it when it verifies with the same secret. */
export async function mintDevelopmentToken(options: DevelopmentTokenOptions): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const jwt = new SignJWT({ scope: options.scope ?? 'jobs:read jobs:write' })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(options.subject ?? 'developer')
    .setJti(randomUUID())
    .setIssuedAt(now)
    .setExpirationTime(now + (options.ttlSeconds ?? 3600));
  if (options.issuer) jwt.setIssuer(options.issuer);
  if (options.audience) jwt.setAudience(options.audience);
  return jwt.sign(new TextEncoder().encode(options.secret));
}
