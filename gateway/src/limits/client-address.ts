import { BlockList, isIP } from 'node:net';
import { ConfigError } from '@medai-flow/common';
import ipaddr from 'ipaddr.js';

/**
 * Returns one spelling per address: IPv4-mapped IPv6 (`::ffff:c633:6409`) as IPv4, so IPv4
 * rules match IPv4 peers on dual-stack sockets, and IPv6 in the RFC 5952 form, so that
 * `2001:DB8:0::1` and `2001:db8::1` share a rate-limit bucket. Text that is not an address
 * is returned trimmed.
 */
function normalize(address: string): string {
  const trimmed = address.trim();
  if (!ipaddr.isValid(trimmed)) return trimmed;
  const parsed = ipaddr.process(trimmed);
  return parsed.kind() === 'ipv6' ? (parsed as ipaddr.IPv6).toRFC5952String() : parsed.toString();
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

  /**
   * Returns the rate-limit bucket of a client address: the address for IPv4, its /64 network
   * for IPv6, because one subscriber or host commonly gets a whole /64 and could otherwise
   * rotate through addresses in it.
   */
  bucketOf(address: string): string {
    if (family(address) !== 'ipv6') return address;
    const parts = (ipaddr.parse(address) as ipaddr.IPv6).parts.slice(0, 4);
    return `${parts.map((part) => part.toString(16)).join(':')}::/64`;
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
