/** Permissions a token can grant; `admin` implies the others. */
export const PERMISSIONS = ['jobs:read', 'jobs:write', 'admin'] as const;
export type Permission = (typeof PERMISSIONS)[number];

/** Rate-limit tier of a caller, chosen from its permissions. */
export type LimitTier = 'standard' | 'admin';

/** The verified identity behind a bearer token. */
export interface Principal {
  subject: string;
  permissions: ReadonlySet<Permission>;
  /** `jti`, else `uti` (Entra ID), else the SHA-256 of the token. */
  tokenId: string;
  /** `iat` in epoch seconds, when the token has one. */
  issuedAt: number | undefined;
  /** `exp` in epoch seconds. */
  expiresAt: number;
  tier: LimitTier;
}

export function hasPermission(principal: Principal, permission: Permission): boolean {
  return principal.permissions.has('admin') || principal.permissions.has(permission);
}

function claimWords(value: unknown): string[] {
  if (typeof value === 'string') return value.split(' ').filter((word) => word.length > 0);
  if (Array.isArray(value)) return value.filter((word): word is string => typeof word === 'string');
  return [];
}

/** Reads permissions from the space-separated `scope`/`scp` claims and the `roles` claim. */
export function permissionsFromClaims(payload: Record<string, unknown>): Set<Permission> {
  const words = [...claimWords(payload.scope), ...claimWords(payload.scp), ...claimWords(payload.roles)];
  const known = new Set<string>(PERMISSIONS);
  return new Set(words.filter((word): word is Permission => known.has(word)));
}
