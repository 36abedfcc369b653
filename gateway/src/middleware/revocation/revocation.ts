import { GatewayError } from '../../errors/gateway-error.js';

/** The 401 of a token found revoked by the edge check. */
export function revokedError(scope: 'token' | 'subject'): GatewayError {
  const detail =
    scope === 'token'
      ? 'the token has been revoked'
      : 'every token of this subject issued so far has been revoked';
  return new GatewayError('token_revoked', detail, { reason: 'revoked' });
}
