import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';
import { networkInterfaces } from 'node:os';
import type { AllowedDestination, SourceFetchSettings } from '@aoinb/config';
import { AoinbError } from '@aoinb/errors';

/**
 * Where the host may connect to fetch a bundle's sources. A bundle chooses its
 * URLs, so without this the host would fetch internal URLs for it (its own
 * Redis, the coordinator, a metadata service, the LAN). Every connection, to
 * the first URL, after every redirect and for every git request (through
 * git-proxy.ts), goes to an address checked here after DNS resolution, and to
 * exactly that address, so a name cannot resolve differently between the
 * check and the connect.
 */
export type SourcePolicy = SourceFetchSettings;

const ranges: Array<[string, number, 'ipv4' | 'ipv6', string]> = [
  ['0.0.0.0', 8, 'ipv4', 'this-network'],
  ['10.0.0.0', 8, 'ipv4', 'private'],
  ['100.64.0.0', 10, 'ipv4', 'shared (CGNAT)'],
  ['127.0.0.0', 8, 'ipv4', 'loopback'],
  ['169.254.0.0', 16, 'ipv4', 'link-local'],
  ['172.16.0.0', 12, 'ipv4', 'private'],
  ['192.0.0.0', 24, 'ipv4', 'IETF protocol'],
  ['192.168.0.0', 16, 'ipv4', 'private'],
  ['198.18.0.0', 15, 'ipv4', 'benchmarking'],
  ['224.0.0.0', 4, 'ipv4', 'multicast'],
  ['240.0.0.0', 4, 'ipv4', 'reserved'],
  ['::', 128, 'ipv6', 'unspecified'],
  ['::1', 128, 'ipv6', 'loopback'],
  ['fe80::', 10, 'ipv6', 'link-local'],
  ['fec0::', 10, 'ipv6', 'site-local'],
  ['fc00::', 7, 'ipv6', 'private (ULA)'],
  ['ff00::', 8, 'ipv6', 'multicast'],
];

const blocks = ranges.map(([net, prefix, family, name]) => {
  const list = new BlockList();
  list.addSubnet(net, prefix, family);
  return { list, family, name };
});

/** An IPv4 address carried inside an IPv6 one (mapped `::ffff:a.b.c.d`, NAT64 `64:ff9b::/96`), else undefined. */
function embeddedIpv4(address: string): string | undefined {
  const m = /^(?:::ffff:|64:ff9b::)(?:(\d+\.\d+\.\d+\.\d+)|([0-9a-f]{1,4}):([0-9a-f]{1,4}))$/i.exec(address);
  if (!m) return undefined;
  if (m[1]) return m[1];
  const hi = parseInt(m[2] as string, 16);
  const lo = parseInt(m[3] as string, 16);
  return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
}

/** The name of the non-public range `address` is in (`loopback`, `private`...), or undefined for a public address. */
export function forbiddenRange(address: string): string | undefined {
  const family = isIP(address);
  if (family === 0) return 'not an IP address';
  const v4 = family === 6 ? embeddedIpv4(address) : address;
  if (v4 !== undefined) return blocks.find((b) => b.family === 'ipv4' && b.list.check(v4, 'ipv4'))?.name;
  return blocks.find((b) => b.family === 'ipv6' && b.list.check(address, 'ipv6'))?.name;
}

/**
 * Names one of the host's own addresses, or an address on a network the host is directly on
 * (public addresses too: the coordinator and the LAN's services may listen on them).
 */
export function hostNetworkRange(address: string): string | undefined {
  const family = isIP(address) === 6 ? 'ipv6' : 'ipv4';
  for (const [name, infos] of Object.entries(networkInterfaces())) {
    for (const info of infos ?? []) {
      if (info.address === address) return 'an address of this host';
      if (info.internal || !info.cidr || info.family.toLowerCase() !== family) continue;
      const list = new BlockList();
      const [net, prefix] = info.cidr.split('/');
      list.addSubnet(net as string, Number(prefix), family);
      if (list.check(address, family)) return `an address on the host's LAN (${name})`;
    }
  }
  return undefined;
}

function allowed(allow: readonly AllowedDestination[], host: string, address: string, port: number): boolean {
  return allow.some((a) => (a.host === host || a.host === address) && (a.port === undefined || a.port === port));
}

export interface CheckedAddress {
  address: string;
  family: 4 | 6;
}

/**
 * Resolves `host` and checks every address it has: all must be public, or the
 * host (by name or address, with the port when the entry has one) must be in
 * `[build] source_allow`. Returns the address to connect to.
 */
export async function checkDestination(hostname: string, port: number, policy: SourcePolicy): Promise<CheckedAddress> {
  const host = hostname
    .toLowerCase()
    .replace(/^\[|\]$/g, '')
    .replace(/\.$/, '');
  let addresses: Array<{ address: string; family: number }>;
  if (isIP(host)) addresses = [{ address: host, family: isIP(host) }];
  else {
    try {
      addresses = await lookup(host, { all: true, verbatim: true });
    } catch (error) {
      throw new AoinbError(
        'SOURCE_FETCH_FAILED',
        `cannot resolve ${host}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
      );
    }
  }
  if (addresses.length === 0) throw new AoinbError('SOURCE_FETCH_FAILED', `cannot resolve ${host}: no address`);
  for (const { address } of addresses) {
    const named = forbiddenRange(address);
    const range = named ? `a ${named} address` : hostNetworkRange(address);
    if (range && !allowed(policy.allow, host, address, port)) {
      throw new AoinbError(
        'SOURCE_FORBIDDEN',
        `${host}:${port} resolves to ${address}, ${range}; sources are not fetched from loopback, link-local, private or the host's own networks unless [build] source_allow lists them`,
      );
    }
  }
  const first = addresses[0] as { address: string; family: number };
  return { address: first.address, family: first.family === 6 ? 6 : 4 };
}
