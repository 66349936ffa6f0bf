import { appendFile, readdir, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mountsUnder } from '../host/mount-table.ts';
import { runBuild } from '../pipeline/run-build.ts';
import { createBuildHost, type BuildHost } from '@aoinb/testkit/build-host';
import { connectProbe, directProbe, lanAddress, proxyAuthLine, viaProxyProbe } from '@aoinb/testkit/network-probes';
import { buildNetworkRunDir, staleNamespaces } from './build-network.ts';

/**
 * A build allowed a network (the explicit opt-in), against the real pipeline:
 * it reaches Debian's mirror through the host's checked proxy, and neither the
 * host's loopback services nor the host's LAN address, through the proxy or
 * around it. Each probe prints a verdict line.
 */
let host: BuildHost;
let service: Server;
let connections = 0;

beforeAll(async () => {
  host = await createBuildHost();
  service = createServer((socket) => {
    connections += 1;
    socket.destroy();
  });
  await new Promise<void>((resolve) => service.listen(0, '0.0.0.0', resolve));
});
afterAll(async () => {
  await new Promise<void>((resolve) => (service ? service.close(() => resolve()) : resolve()));
  await host?.close();
});

/** The probes of a hostile build script (@aoinb/testkit/network-probes) against this host's service on `port`. */
function probeScript(port: number, lan: string): string {
  return [
    proxyAuthLine,
    // /proc/net/dev is the reader's own namespace (sysfs shows the one nspawn mounted it in).
    "abinfo \"probe interfaces: $(tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' ' | tr '\\n' ' ')\"",
    viaProxyProbe(
      'mirror',
      'GET http://deb.debian.org/debian/dists/trixie/Release HTTP/1.1\\r\\nHost: deb.debian.org\\r\\n',
    ),
    connectProbe('tunnel', 'deb.debian.org:443'),
    viaProxyProbe('loopback', `CONNECT 127.0.0.1:${port} HTTP/1.1\\r\\nHost: 127.0.0.1\\r\\n`),
    viaProxyProbe('lan', `CONNECT ${lan}:${port} HTTP/1.1\\r\\nHost: ${lan}\\r\\n`),
    directProbe('direct-lan', lan, port),
    directProbe('direct-loopback', '127.0.0.1', port),
    'install -d "$PKGDIR"/usr/share/probe && echo ok > "$PKGDIR"/usr/share/probe/ok',
  ].join('\n');
}

describe('a build allowed a network', () => {
  it("reaches the internet through the checked proxy only: never the host's services or its LAN", async () => {
    const lan = lanAddress();
    const port = (service.address() as { port: number }).port;
    const bundle = await host.exampleBundle('online');
    await writeFile(path.join(bundle, 'autobuild/build'), probeScript(port, lan));
    await appendFile(path.join(bundle, 'autobuild/defines'), 'ABSPLITDBG=0\n');
    const lines: string[] = [];
    const result = await runBuild(host.ctx, {
      buildId: 'online-1',
      bundleDir: bundle,
      branch: 'stable',
      network: true,
      onLogLine: (l) => lines.push(l),
    });
    expect(result.reason, lines.slice(-60).join('\n')).toBeUndefined();
    const plain = lines.map((l) => l.replace(/\x1b\[[0-9;]*m/g, ''));
    const probe = (name: string) => plain.find((l) => l.includes(`probe ${name}:`)) ?? `(no ${name} line)`;
    const probes = plain.filter((l) => l.includes('probe ') || l.includes('network: refused')).join('\n');

    expect(lines).toContain("[aoinb] this build has a network: HTTP(S) through the host's checked proxy only");
    expect(probe('interfaces').trim(), probes).toMatch(/: lo$/);
    expect(probe('mirror'), probes).toMatch(/HTTP\/1\.1 200 .*Origin: Debian/);
    expect(probe('tunnel')).toMatch(/HTTP\/1\.1 200 Connection Established/);
    expect(probe('loopback')).toMatch(/HTTP\/1\.1 403/);
    expect(probe('lan')).toMatch(/HTTP\/1\.1 403/);
    expect(probe('direct-lan')).toMatch(/no route/);
    expect(probe('direct-loopback')).toMatch(/no route/);
    expect(connections).toBe(0);
    // The refusals are in the log with their reason.
    expect(
      lines.some((l) => /network: refused 127\.0\.0\.1:\d+ resolves to 127\.0\.0\.1, a loopback address/.test(l)),
    ).toBe(true);
    expect(lines.some((l) => l.includes(`${lan}:${port} resolves to ${lan}, an address of this host`))).toBe(true);
    // Nothing left behind: no namespace, no socket file, no mount (other test files' builds may have theirs now).
    expect((await staleNamespaces()).filter((n) => n.includes('online-1'))).toEqual([]);
    expect((await readdir(buildNetworkRunDir)).filter((n) => n.includes('online-1'))).toEqual([]);
    expect(await mountsUnder(host.workDir)).toEqual([]);
  });

  it('has no network at all without the opt-in', async () => {
    const bundle = await host.exampleBundle('offline');
    await writeFile(
      path.join(bundle, 'autobuild/build'),
      [
        'abinfo "probe proxy-env: ${http_proxy:-none}"',
        `if timeout 5 bash -c 'exec 3<>/dev/tcp/127.0.0.1/3128' 2>/dev/null; ` +
          'then abinfo "probe relay: CONNECTED"; else abinfo "probe relay: none"; fi',
        'install -d "$PKGDIR"/usr/share/probe && echo ok > "$PKGDIR"/usr/share/probe/ok',
      ].join('\n'),
    );
    await appendFile(path.join(bundle, 'autobuild/defines'), 'ABSPLITDBG=0\n');
    const lines: string[] = [];
    const result = await runBuild(host.ctx, {
      buildId: 'offline-1',
      bundleDir: bundle,
      branch: 'stable',
      onLogLine: (l) => lines.push(l),
    });
    expect(result.reason, lines.slice(-60).join('\n')).toBeUndefined();
    const plain = lines.map((l) => l.replace(/\x1b\[[0-9;]*m/g, ''));
    expect(plain.find((l) => l.includes('probe proxy-env:'))).toMatch(/none$/);
    expect(plain.find((l) => l.includes('probe relay:'))).toMatch(/none$/);
  });
});
