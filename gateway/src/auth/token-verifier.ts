import { sha256Hex } from '@medai-flow/common';
import { decodeProtectedHeader, errors, type JWTPayload, jwtVerify } from 'jose';
import { LRUCache } from 'lru-cache';
import { GatewayError } from '../errors/gateway-error.js';
import type { Clock } from '../http/context.js';
import type { KeySource } from './key-source.js';
import { type Principal, permissionsFromClaims } from './principal.js';

/** Header parameters that name a key inside the token; a verifier that followed them would trust the attacker's key. */
const UNTRUSTED_KEY_HEADERS = ['jwk', 'jku', 'x5u', 'x5c'] as const;

export interface TokenVerifierOptions {
  issuer: string | undefined;
  audience: string | undefined;
  clockToleranceSeconds: number;
  maxLifetimeSeconds: number;
  /** Maximum reuse time of a verified token, in seconds. */
  cacheSeconds: number;
  cacheSize: number;
  clock: Clock;
}

function invalid(detail: string, reason: string, cause?: unknown): GatewayError {
  return new GatewayError('token_invalid', detail, { reason, cause });
}

/** Maps jose's failures to gateway errors; details name the claim or header, never the token. */
function mapJoseError(error: unknown, keySource: KeySource): GatewayError {
  if (error instanceof errors.JWTExpired) {
    return new GatewayError('token_expired', 'the token has expired', { reason: 'expired', cause: error });
  }
  if (error instanceof errors.JWTClaimValidationFailed) {
    const reason = error.claim === 'nbf' ? 'not_yet_valid' : 'claim';
    return invalid(`the "${error.claim}" claim check failed (${error.reason})`, reason, error);
  }
  if (error instanceof errors.JOSEAlgNotAllowed) {
    return invalid('the token algorithm is not allowed', 'algorithm', error);
  }
  if (error instanceof errors.JWSSignatureVerificationFailed) {
    return invalid('the token signature is invalid', 'signature', error);
  }
  if (error instanceof errors.JWKSNoMatchingKey || error instanceof errors.JWKSMultipleMatchingKeys) {
    return invalid('no single key of the key set matches the token', 'unknown_key', error);
  }
  if (
    error instanceof errors.JWKSTimeout ||
    (keySource.kind === 'jwks' && !(error instanceof errors.JOSEError))
  ) {
    return new GatewayError('key_source_unavailable', 'the token signing keys could not be fetched', {
      reason: 'key_unavailable',
      retryAfterSeconds: 5,
      cause: error,
    });
  }
  if (error instanceof errors.JWTInvalid)
    return invalid('the token payload is not a valid JWT claims set', 'malformed', error);
  return invalid('the token is not a valid signed JWT', 'malformed', error);
}

/**
 * Verifies bearer tokens with jose and caches the result per token, so the signature is
 * checked once and not on every request. A cached principal is reused until the token
 * expires or `cacheSeconds` pass, whichever comes first; revocation is checked elsewhere
 * on every request.
 */
export class TokenVerifier {
  private readonly cache: LRUCache<string, Principal>;

  constructor(
    private readonly keySource: KeySource,
    private readonly options: TokenVerifierOptions,
  ) {
    this.cache = new LRUCache({ max: options.cacheSize });
  }

  /**
   * Returns the principal of `token` if it was verified before and has not expired, else
   * undefined. It is synchronous, so the common case costs no promise.
   */
  cached(token: string): Principal | undefined {
    const cached = this.cache.get(token);
    return cached && this.isUnexpired(cached, this.options.clock.now()) ? cached : undefined;
  }

  /** Returns the principal of `token`, from the cache or by verifying the token. */
  async verify(token: string): Promise<Principal> {
    const cached = this.cached(token);
    if (cached) return cached;

    const nowMs = this.options.clock.now();
    const payload = await this.verifySignedToken(token, nowMs);
    const principal = this.toPrincipal(token, payload, nowMs);
    const ttlMs = Math.min(principal.expiresAt * 1000 - nowMs, this.options.cacheSeconds * 1000);
    if (ttlMs > 0) this.cache.set(token, principal, { ttl: ttlMs });
    return principal;
  }

  private isUnexpired(principal: Principal, nowMs: number): boolean {
    return principal.expiresAt * 1000 + this.options.clockToleranceSeconds * 1000 > nowMs;
  }

  private async verifySignedToken(token: string, nowMs: number): Promise<JWTPayload> {
    if (!isCanonicalCompactJws(token)) {
      throw invalid('the token is not a compact JWS in canonical base64url', 'malformed');
    }
    let header: Record<string, unknown>;
    try {
      header = decodeProtectedHeader(token) as Record<string, unknown>;
    } catch (error) {
      throw invalid('the token is not a valid signed JWT', 'malformed', error);
    }
    const named = UNTRUSTED_KEY_HEADERS.find((name) => header[name] !== undefined);
    if (named)
      throw invalid(
        `the token header names its own key ("${named}"), which is never trusted`,
        'untrusted_header',
      );

    try {
      const { payload } = await jwtVerify(token, this.keySource.key as Uint8Array, {
        algorithms: this.keySource.algorithms,
        issuer: this.options.issuer,
        audience: this.options.audience,
        clockTolerance: this.options.clockToleranceSeconds,
        currentDate: new Date(nowMs),
        requiredClaims: ['exp', 'sub'],
      });
      return payload;
    } catch (error) {
      throw mapJoseError(error, this.keySource);
    }
  }

  private toPrincipal(token: string, payload: JWTPayload, nowMs: number): Principal {
    const expiresAt = payload.exp as number;
    const lifetime = expiresAt - Math.floor(nowMs / 1000);
    // jose checks `iat` only against a maximum token age. A token issued further in the future
    // than the clock tolerance would outlive a subject revocation, which rejects tokens issued
    // up to the revocation time plus the tolerance. A non-finite `iat` (1e999 parses to
    // Infinity) would reach the revocation script as null.
    if (payload.iat !== undefined && !Number.isFinite(payload.iat)) {
      throw invalid('the "iat" claim check failed (not a finite number)', 'claim');
    }
    if (typeof payload.iat === 'number' && payload.iat > nowMs / 1000 + this.options.clockToleranceSeconds) {
      throw invalid('the "iat" claim check failed (the token is issued in the future)', 'claim');
    }
    if (lifetime > this.options.maxLifetimeSeconds + this.options.clockToleranceSeconds) {
      throw invalid(
        `the token lives longer than the ${this.options.maxLifetimeSeconds} s the gateway accepts`,
        'lifetime',
      );
    }
    if (typeof payload.sub !== 'string' || payload.sub.length === 0 || payload.sub.length > 256) {
      throw invalid('the "sub" claim must be a string of 1 to 256 characters', 'claim');
    }
    const claims = payload as Record<string, unknown>;
    const permissions = permissionsFromClaims(claims);
    return {
      subject: payload.sub,
      permissions,
      tokenId: tokenIdOf(token, claims),
      issuedAt: typeof payload.iat === 'number' ? Math.floor(payload.iat) : undefined,
      expiresAt,
      tier: permissions.has('admin') ? 'admin' : 'standard',
    };
  }
}

/**
 * Checks that a token is three base64url segments in their one canonical spelling: no
 * padding, and no bits set beyond the data in the last character. jose decodes base64url
 * leniently, so `token=` or a changed last character would verify as the same token. Such a
 * spelling would get another SHA-256, the revocation id of tokens without `jti`, and escape
 * a revocation of the original.
 */
function isCanonicalCompactJws(token: string): boolean {
  const segments = token.split('.');
  return (
    segments.length === 3 &&
    segments.every((segment) => Buffer.from(segment, 'base64url').toString('base64url') === segment)
  );
}

/**
 * Returns a token's id for revocation: `jti`, else `uti` (Entra ID), else the SHA-256 of the
 * signing input (header and payload). The signature is left out because an ECDSA signature
 * (r, s) has a second valid form (r, n - s): anyone holding the token could spell it anew.
 */
export function tokenIdOf(token: string, claims: Record<string, unknown>): string {
  if (typeof claims.jti === 'string' && claims.jti.length > 0) return claims.jti;
  if (typeof claims.uti === 'string' && claims.uti.length > 0) return claims.uti;
  return sha256Hex(token.slice(0, token.lastIndexOf('.')));
}
