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
export type SourcePolicy = SourceFetchSettings & {
  /** The farm's own services: refused to every use, whatever `source_allow` says (network/control-plane.ts). */
  controlPlane?: readonly ControlPlaneEndpoint[];
};

/** One service of the farm's control plane (the coordinator, Redis, a worker's metrics). */
export interface ControlPlaneEndpoint {
  /** What it is, for the refusal: `the coordinator`, `Redis`... */
  name: string;
  /** Host name or address it is reached at (`0.0.0.0`/`::`: every address of this host). */
  host: string;
  port: number;
}

/**
 * Who connects, for the refusal's wording: the host fetching a bundle's
 * sources (downloads and git), or a build allowed a network (its proxy).
 */
export type DestinationUse = 'sources' | 'build-network';

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

/** `::ffff:a.b.c.d` as `a.b.c.d`: one spelling per address for comparisons. */
function plainAddress(address: string): string {
  return (isIP(address) === 6 ? embeddedIpv4(address) : undefined) ?? address.toLowerCase();
}

/** Loopback, or one of this host's own addresses: the places a service of this host answers on. */
function onThisHost(address: string): boolean {
  return forbiddenRange(address) === 'loopback' || hostNetworkRange(address) === 'an address of this host';
}

async function addressesOf(host: string): Promise<string[]> {
  if (isIP(host)) return [host];
  return (await lookup(host, { all: true, verbatim: true }).catch(() => [])).map((a) => a.address);
}

/**
 * The control-plane service `address`:`port` belongs to, if any. A service on
 * this host (loopback, an own address, or listening on all of them) is matched
 * on every loopback and own address at its port: a listener bound to 0.0.0.0
 * answers on each of them whatever address its URL names.
 */
export async function controlPlaneAt(
  address: string,
  port: number,
  endpoints: readonly ControlPlaneEndpoint[],
): Promise<ControlPlaneEndpoint | undefined> {
  const target = plainAddress(address);
  for (const endpoint of endpoints) {
    if (endpoint.port !== port) continue;
    const host = endpoint.host.toLowerCase().replace(/^\[|\]$/g, '');
    const wildcard = host === '0.0.0.0' || host === '::';
    for (const a of wildcard ? [] : (await addressesOf(host)).map(plainAddress)) {
      if (a === target || (onThisHost(a) && onThisHost(target))) return endpoint;
    }
    if (wildcard && onThisHost(target)) return endpoint;
  }
  return undefined;
}

function refusalRule(use: DestinationUse): string {
  return use === 'build-network'
    ? "a build's network reaches only public addresses off the host's own networks, " +
        'unless [build] source_allow lists them'
    : "sources are not fetched from loopback, link-local, private or the host's own networks unless [build] " +
        'source_allow lists them';
}

function allowed(allow: readonly AllowedDestination[], host: string, address: string, port: number): boolean {
  return allow.some((a) => (a.host === host || a.host === address) && (a.port === undefined || a.port === port));
}

export interface CheckedAddress {
  address: string;
  family: 4 | 6;
}

/**
 * Resolves `host` and checks every address it has: none may be a service of
 * the farm's control plane, and all must be public, or the host (by name or
 * address, with the port when the entry has one) must be in `[build]
 * source_allow`. Returns the address to connect to.
 */
export async function checkDestination(
  hostname: string,
  port: number,
  policy: SourcePolicy,
  use: DestinationUse = 'sources',
): Promise<CheckedAddress> {
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
  const who = use === 'build-network' ? 'no build may connect to it' : 'no source is fetched from it';
  for (const { address } of addresses) {
    const service = await controlPlaneAt(address, port, policy.controlPlane ?? []);
    if (service)
      throw new AoinbError(
        'SOURCE_FORBIDDEN',
        `${host}:${port} resolves to ${address}, this farm's control plane (${service.name} ` +
          `at ${service.host}:${service.port}); ${who}, whatever [build] source_allow lists`,
      );
    const named = forbiddenRange(address);
    const range = named ? `a ${named} address` : hostNetworkRange(address);
    if (range && !allowed(policy.allow, host, address, port))
      throw new AoinbError('SOURCE_FORBIDDEN', `${host}:${port} resolves to ${address}, ${range}; ${refusalRule(use)}`);
  }
  const first = addresses[0] as { address: string; family: number };
  return { address: first.address, family: first.family === 6 ? 6 : 4 };
}
