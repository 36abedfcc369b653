import { BlockList, isIP } from 'node:net';
import { ConfigError } from '@medai-flow/common';

/** `::ffff:a.b.c.d` as `a.b.c.d`, so IPv4 rules match IPv4 peers on dual-stack sockets. */
function normalize(address: string): string {
  const trimmed = address.trim();
  return trimmed.toLowerCase().startsWith('::ffff:') && isIP(trimmed.slice(7)) === 4
    ? trimmed.slice(7)
    : trimmed;
}

function family(address: string): 'ipv4' | 'ipv6' | undefined {
  const version = isIP(address);
  if (version === 4) return 'ipv4';
  if (version === 6) return 'ipv6';
  return undefined;
}

/**
 * Resolves the client address of a request. `X-Forwarded-For` is read only when the peer is
 * a trusted proxy, and then from the right: the first hop that is not itself a trusted proxy
 * is the client, because hops further left were written by parties no trusted proxy vouches for.
 */
export class ClientAddressResolver {
  private readonly trusted = new BlockList();
  private readonly hasTrusted: boolean;

  constructor(cidrs: readonly string[]) {
    for (const cidr of cidrs) this.addCidr(cidr);
    this.hasTrusted = cidrs.length > 0;
  }

  private addCidr(cidr: string): void {
    const [network = '', prefixText] = cidr.split('/');
    const address = normalize(network);
    const type = family(address);
    const maxPrefix = type === 'ipv4' ? 32 : 128;
    const prefix = prefixText === undefined ? maxPrefix : Number(prefixText);
    if (!type || !Number.isInteger(prefix) || prefix < 0 || prefix > maxPrefix) {
      throw new ConfigError([`TRUSTED_PROXIES: "${cidr}" is not a CIDR such as 10.0.0.0/8 or fd00::/8`]);
    }
    this.trusted.addSubnet(address, prefix, type);
  }

  isTrusted(address: string): boolean {
    const type = family(address);
    return type !== undefined && this.trusted.check(address, type);
  }

  /** Returns the client address for a connection from `peer` carrying `forwardedFor` (may be undefined). */
  resolve(peer: string, forwardedFor: string | undefined): string {
    const peerAddress = normalize(peer);
    if (!this.hasTrusted || !forwardedFor || !this.isTrusted(peerAddress)) return peerAddress;
    const hops = forwardedFor.split(',').map(normalize);
    for (let index = hops.length - 1; index >= 0; index--) {
      const hop = hops[index] ?? '';
      if (!family(hop)) return peerAddress;
      if (!this.isTrusted(hop)) return hop;
    }
    return hops[0] ?? peerAddress;
  }
}
