import { createPublicKey, type KeyObject } from 'node:crypto';
import { ConfigError } from '@medai-flow/common';
import { createRemoteJWKSet, type JWTVerifyGetKey } from 'jose';
import type { GatewayConfig } from '../config.js';

const RSA_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512'];
const RSA_PSS_ALGORITHMS = ['PS256', 'PS384', 'PS512'];
const EC_ALGORITHMS: Record<string, string> = { prime256v1: 'ES256', secp384r1: 'ES384', secp521r1: 'ES512' };
const EDDSA_ALGORITHMS = ['EdDSA', 'Ed25519'];
/** A JWKS may hold any asymmetric key; jose picks the key whose `kty` fits the token's `alg`. */
const ASYMMETRIC_ALGORITHMS = [...RSA_ALGORITHMS, 'ES256', 'ES384', 'ES512', ...EDDSA_ALGORITHMS];

/** Where signatures are checked against, and which algorithms fit that key. */
export interface KeySource {
  kind: 'secret' | 'public-key' | 'jwks';
  key: Uint8Array | KeyObject | JWTVerifyGetKey;
  algorithms: string[];
}

function publicKeyAlgorithms(key: KeyObject): string[] {
  switch (key.asymmetricKeyType) {
    case 'rsa':
      return RSA_ALGORITHMS;
    case 'rsa-pss':
      return RSA_PSS_ALGORITHMS;
    case 'ec': {
      const algorithm = EC_ALGORITHMS[key.asymmetricKeyDetails?.namedCurve ?? ''];
      if (algorithm) return [algorithm];
      break;
    }
    case 'ed25519':
      return EDDSA_ALGORITHMS;
  }
  throw new ConfigError([
    `AUTH_JWT_PUBLIC_KEY: key type ${key.asymmetricKeyType ?? 'unknown'} is not supported (use RSA, EC P-256/384/521 or Ed25519)`,
  ]);
}

function importPublicKey(pem: string): KeyObject {
  // Environment files often carry a PEM on one line with literal "\n" escapes.
  const text = pem.includes('\\n') ? pem.replaceAll('\\n', '\n') : pem;
  if (text.includes('PRIVATE KEY')) {
    throw new ConfigError(['AUTH_JWT_PUBLIC_KEY: is a private key; give the gateway the public key only']);
  }
  try {
    return createPublicKey({ key: text, format: 'pem' });
  } catch (error) {
    throw new ConfigError([`AUTH_JWT_PUBLIC_KEY: is not a PEM public key (${(error as Error).message})`]);
  }
}

/** Narrows the key's algorithms to AUTH_ALGORITHMS when it is set; an algorithm that cannot fit the key stops start-up. */
function allowlist(fitting: string[], configured: string[]): string[] {
  if (configured.length === 0) return fitting;
  const unfit = configured.filter((algorithm) => !fitting.includes(algorithm));
  if (unfit.length > 0) {
    throw new ConfigError([
      `AUTH_ALGORITHMS: ${unfit.join(', ')} cannot be used with the configured key (allowed: ${fitting.join(', ')})`,
    ]);
  }
  return configured;
}

/** Builds the key source from exactly one of AUTH_JWT_SECRET, AUTH_JWT_PUBLIC_KEY and AUTH_JWKS_URL. */
export function createKeySource(config: GatewayConfig): KeySource {
  if (config.AUTH_JWT_SECRET) {
    return {
      kind: 'secret',
      key: new TextEncoder().encode(config.AUTH_JWT_SECRET),
      algorithms: allowlist(['HS256'], config.AUTH_ALGORITHMS),
    };
  }
  if (config.AUTH_JWT_PUBLIC_KEY) {
    const key = importPublicKey(config.AUTH_JWT_PUBLIC_KEY);
    return {
      kind: 'public-key',
      key,
      algorithms: allowlist(publicKeyAlgorithms(key), config.AUTH_ALGORITHMS),
    };
  }
  if (config.AUTH_JWKS_URL) {
    const key = createRemoteJWKSet(new URL(config.AUTH_JWKS_URL), {
      timeoutDuration: config.AUTH_JWKS_TIMEOUT_MS,
      cooldownDuration: config.AUTH_JWKS_COOLDOWN_MS,
      cacheMaxAge: config.AUTH_JWKS_CACHE_MAX_AGE_MS,
    });
    return { kind: 'jwks', key, algorithms: allowlist(ASYMMETRIC_ALGORITHMS, config.AUTH_ALGORITHMS) };
  }
  throw new ConfigError([
    'AUTH_JWT_SECRET: one of AUTH_JWT_SECRET, AUTH_JWT_PUBLIC_KEY or AUTH_JWKS_URL is required',
  ]);
}
