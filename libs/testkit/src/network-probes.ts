import { networkInterfaces } from 'node:os';

/**
 * Pieces of a hostile build script (bash only: the base OS has no curl) that
 * probe what a build with a network can reach: requests through $http_proxy on
 * fd 3, and direct connections around it. Each probe logs one `probe LABEL: ...`
 * line for the test to read from the build log.
 */

/** This host's first non-loopback IPv4 address (the LAN a build must not reach). */
export function lanAddress(): string {
  const found = Object.values(networkInterfaces())
    .flat()
    .find((a) => a && a.family === 'IPv4' && !a.internal)?.address;
  if (!found) throw new Error('this test needs a non-loopback IPv4 address (a build host has one)');
  return found;
}

/** Sets `$auth` from the credentials in $http_proxy; comes before any proxy probe. */
export const proxyAuthLine = 'creds=${http_proxy#http://}; creds=${creds%@*}; auth=$(printf %s "$creds" | base64 -w0)';

/** Sends `request` (its request line and headers, `\r\n`-escaped) through the relay; logs the lines matching `show`. */
export function viaProxyProbe(label: string, request: string, show = '^(HTTP/|Origin:)'): string {
  return [
    `if exec 3<>/dev/tcp/127.0.0.1/3128; then`,
    `  printf '${request}Proxy-Authorization: Basic %s\\r\\nConnection: close\\r\\n\\r\\n' "$auth" >&3`,
    `  abinfo "probe ${label}: $(timeout 20 head -c 4000 <&3 | tr -d '\\r' | grep -E '${show}' | tr '\\n' ' ')"`,
    `  exec 3<&-`,
    `else abinfo "probe ${label}: no relay"; fi`,
  ].join('\n');
}

/** A CONNECT tunnel to `target` (host:port) through the relay. */
export function connectProbe(label: string, target: string, show?: string): string {
  return viaProxyProbe(label, `CONNECT ${target} HTTP/1.1\\r\\nHost: ${target}\\r\\n`, show);
}

/** A direct TCP connection to `ip`:`port`, around the proxy: logs CONNECTED or no route. */
export function directProbe(label: string, ip: string, port: number): string {
  return (
    `if timeout 5 bash -c 'exec 3<>/dev/tcp/${ip}/${port}' 2>/dev/null; then abinfo "probe ${label}: CONNECTED"; ` +
    `else abinfo "probe ${label}: no route"; fi`
  );
}
