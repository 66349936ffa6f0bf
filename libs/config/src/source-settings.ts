import { isIP } from 'node:net';
import type { TableReader } from './table-reader.ts';

/** A destination let through although it is on loopback, link-local or a private range (a local mirror). */
export interface AllowedDestination {
  /** Lower-case host name or IP address (IPv6 without brackets). */
  host: string;
  /** Any port when absent. */
  port?: number;
}

/** How the host fetches a bundle's sources (`[build] source_*`). */
export interface SourceFetchSettings {
  allow: AllowedDestination[];
  /** Largest download per source. */
  maxBytes: number;
  /** Longest a single source may take to fetch. */
  timeoutMs: number;
  /** A download that receives nothing for this long fails. */
  stallMs: number;
}

const hostName =
  /^(?=.{1,253}$)[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?(?:\.[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?)*\.?$/;

/** Parses `host`, `host:port`, `1.2.3.4[:port]`, `::1` or `[::1]:port`; undefined when malformed. */
export function parseAllowedDestination(entry: string): AllowedDestination | undefined {
  const text = entry.trim().toLowerCase();
  let host = text;
  let portText: string | undefined;
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(text);
  if (bracketed) {
    host = bracketed[1] as string;
    portText = bracketed[2];
    if (isIP(host) !== 6) return undefined;
  } else if (isIP(text) !== 6) {
    const colon = text.lastIndexOf(':');
    if (colon >= 0) {
      host = text.slice(0, colon);
      portText = text.slice(colon + 1);
      if (!/^\d+$/.test(portText)) return undefined;
    }
    if (isIP(host) === 0 && !hostName.test(host)) return undefined;
  }
  if (portText === undefined) return { host };
  const port = Number(portText);
  return port >= 1 && port <= 65535 ? { host, port } : undefined;
}

export function readSourceSettings(build: TableReader): SourceFetchSettings {
  const allow = build.stringArray('source_allow', []).flatMap((entry, i) => {
    const parsed = parseAllowedDestination(entry);
    if (!parsed)
      build.problem(`source_allow[${i}]`, `${JSON.stringify(entry)} is not a host, host:port, IP or [IPv6]:port`);
    return parsed ? [parsed] : [];
  });
  return {
    allow,
    maxBytes: build.integer('source_max_mib', { default: 8192, min: 1 }) * 1024 * 1024,
    timeoutMs: build.integer('source_timeout_minutes', { default: 60, min: 1 }) * 60_000,
    stallMs: build.integer('source_stall_seconds', { default: 120, min: 1 }) * 1000,
  };
}
