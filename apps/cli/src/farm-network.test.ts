import { appendFile, mkdir, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mountsUnder } from '@aoinb/buildroot';
import { createBuildHost, type BuildHost } from '@aoinb/testkit/build-host';
import { connectProbe, directProbe, lanAddress, proxyAuthLine, viaProxyProbe } from '@aoinb/testkit/network-probes';
import { freePort } from '@aoinb/testkit';
import { startFarmUp, type FarmUpProcess } from '../test-support/farm-up-process.ts';

/**
 * A farm build that asked for a network, through `farm up` and the real nspawn
 * pipeline: the coordinator allows it (`network_builds`), the worker runs it
 * (`allow_network_builds`), and the build reaches Debian's mirror through the
 * checked proxy, but never the farm's control plane: the coordinator's and
 * Redis's ports on this host are refused through the proxy (although
 * `source_allow` opens 127.0.0.1 for a local mirror, which stays reachable)
 * and unreachable around it. The status says the build had a network.
 */
const bin = fileURLToPath(new URL('../bin/aoinb.js', import.meta.url));
let host: BuildHost;
let farm: FarmUpProcess | undefined;
let mirror: Server;
let apiPort: number;
let redisPort: number;

beforeAll(async () => {
  apiPort = await freePort();
  // A local mirror on loopback, which source_allow lets through.
  mirror = createServer((socket) => socket.end('mirror-ok\n'));
  await new Promise<void>((resolve) => mirror.listen(0, '127.0.0.1', resolve));
  host = await createBuildHost({
    sourceAllow: ['127.0.0.1'],
    extraToml: [
      '[build]\ninstance_refresh_minutes = 600\nsample_interval_seconds = 0.5',
      `[coordinator]\nlisten = "127.0.0.1:${apiPort}"\nnetwork_builds = "any-submitter"`,
      '[worker]\nallow_network_builds = true',
      '[[tokens]]\nname = "maint"\nrole = "maintainer"\nfile = "secrets/maint.token"',
      '[[tokens]]\nname = "w"\nrole = "worker"\nfile = "secrets/worker.token"',
    ].join('\n\n'),
    beforeConfigLoad: async (configDir) => {
      await mkdir(path.join(configDir, 'secrets'), { recursive: true });
      await writeFile(path.join(configDir, 'secrets/maint.token'), 'farm-network-maintainer-token');
      await writeFile(path.join(configDir, 'secrets/worker.token'), 'farm-network-worker-token');
    },
  });
  farm = await startFarmUp(bin, host.configDir);
  redisPort = farm.redisPort();
});

afterAll(async () => {
  await farm?.stop();
  await new Promise<void>((resolve) => (mirror ? mirror.close(() => resolve()) : resolve()));
  await host?.close();
});

/** The probes of a hostile build script (@aoinb/testkit/network-probes) against the farm's own ports. */
function probeScript(lan: string, mirrorPort: number): string {
  const show = '^(HTTP/|Origin:|mirror-ok)';
  const connect = (label: string, target: string) => connectProbe(label, target, show);
  return [
    proxyAuthLine,
    viaProxyProbe(
      'debian',
      'GET http://deb.debian.org/debian/dists/trixie/Release HTTP/1.1\\r\\nHost: deb.debian.org\\r\\n',
      show,
    ),
    connect('local-mirror', `127.0.0.1:${mirrorPort}`),
    connect('coordinator', `127.0.0.1:${apiPort}`),
    connect('coordinator-lan', `${lan}:${apiPort}`),
    connect('redis', `127.0.0.1:${redisPort}`),
    connect('redis-by-name', `localhost:${redisPort}`),
    directProbe('direct-coordinator', '127.0.0.1', apiPort),
    directProbe('direct-redis', '127.0.0.1', redisPort),
    // The build's own AOINB_PKG* values are there; no worker or Redis secret, no token.
    'abinfo "probe env: $(env | grep -cE \'AOINB_(WORKER|REDIS)|farm-network-\' || true)"',
    'mkdir -p "$PKGDIR"/usr/share/doc/online',
  ].join('\n');
}

describe('a farm build with a network', () => {
  it("reaches Debian's mirror through the proxy, never the coordinator or Redis; the status says network", async () => {
    const lan = lanAddress();
    const bundle = await host.exampleBundle('farm-online');
    await writeFile(
      path.join(bundle, 'autobuild/build'),
      probeScript(lan, (mirror.address() as { port: number }).port),
    );
    await appendFile(path.join(bundle, 'autobuild/defines'), 'ABSPLITDBG=0\n');
    const run = (args: string[]) =>
      execa(process.execPath, [bin, '-c', host.configDir, ...args], { reject: false, all: true });
    const submitted = await run(['submit', bundle, '--branch', 'stable', '--network']);
    expect(submitted.exitCode, submitted.all).toBe(0);
    const log = submitted.stdout.replace(/\x1b\[[0-9;]*m/g, '');
    const probe = (name: string) => log.split('\n').find((l) => l.includes(`probe ${name}:`)) ?? `(no ${name} line)`;
    const probes = log
      .split('\n')
      .filter((l) => l.includes('probe ') || l.includes('network: refused'))
      .join('\n');

    expect(log).toContain("[aoinb] this build has a network: HTTP(S) through the host's checked proxy only");
    expect(probe('debian'), probes).toMatch(/HTTP\/1\.1 200 .*Origin: Debian/);
    expect(probe('local-mirror'), probes).toMatch(/HTTP\/1\.1 200 Connection Established mirror-ok/);
    for (const name of ['coordinator', 'coordinator-lan', 'redis', 'redis-by-name'])
      expect(probe(name), probes).toMatch(/HTTP\/1\.1 403/);
    expect(probe('direct-coordinator')).toMatch(/no route/);
    expect(probe('direct-redis')).toMatch(/no route/);
    expect(probe('env')).toMatch(/: 0$/);
    // Each refusal names the service and why, in the build's log.
    expect(log).toContain(
      [
        `network: refused 127.0.0.1:${apiPort} resolves to 127.0.0.1,`,
        `this farm's control plane (the coordinator at 127.0.0.1:${apiPort});`,
        'no build may connect to it, whatever [build] source_allow lists',
      ].join(' '),
    );
    expect(log).toContain(`${lan}:${apiPort} resolves to ${lan}, this farm's control plane (the coordinator at`);
    expect(log).toContain(
      `network: refused 127.0.0.1:${redisPort} resolves to 127.0.0.1, this farm's control plane ` +
        `(Redis at 127.0.0.1:${redisPort})`,
    );

    const id = /submitted .* as task (\d+)/.exec(submitted.stderr)?.[1];
    const status = await run(['status', id ?? '?', '--json']);
    expect(status.exitCode, status.all).toBe(0);
    expect(JSON.parse(status.stdout)).toMatchObject({ id, state: 'succeeded', network: true });
    expect(await mountsUnder(host.workDir)).toEqual([]);
  }, 600_000);
});
