import type { Redis, RedisKeys } from '@medai-flow/common';

/** Writes revocation entries; `EdgeCheck` reads them on every request. */
export class RevocationStore {
  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
  ) {}

  /** Revokes one token id until `ttlSeconds` from now, when the token has expired anyway. */
  async revokeToken(tokenId: string, ttlSeconds: number): Promise<void> {
    await this.redis.set(this.keys.revokedToken(tokenId), '1', 'EX', Math.max(1, Math.ceil(ttlSeconds)));
  }

  /**
   * Revokes every token of `subject` issued at or before `epochSeconds` (a token issued in the
   * same second counts as revoked, since `iat` has whole seconds), and every token without
   * `iat`. The entry is kept for `ttlSeconds`, the longest lifetime a token may have.
   */
  async revokeSubject(subject: string, epochSeconds: number, ttlSeconds: number): Promise<void> {
    await this.redis.set(
      this.keys.revokedSubject(subject),
      String(epochSeconds),
      'EX',
      Math.ceil(ttlSeconds),
    );
  }
}
