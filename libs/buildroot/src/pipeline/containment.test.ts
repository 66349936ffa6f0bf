import { appendFile, readFile, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { networkInterfaces } from 'node:os';
import path from 'node:path';
import { startRedis, type RedisHandle } from '@aoinb/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mountsUnder } from '../host/mount-table.ts';
import { createBuildHost, type BuildHost } from '@aoinb/testkit/build-host';
import { runBuild } from './run-build.ts';

/**
 * A hostile build script against the real pipeline (OverlayFS + systemd-nspawn):
 * it looks for secrets in its environment and PID 1's, and tries the host's
 * loopback services and the host's LAN address. Each probe prints a verdict.
 */
const canary = 'canary-secret-5f1c0e';
let host: BuildHost;
let redis: RedisHandle;
let lan: Server;
let lanConnections = 0;
const saved = { ...process.env };

function lanAddress(): string | undefined {
  return Object.values(networkInterfaces())
    .flat()
    .find((a) => a && a.family === 'IPv4' && !a.internal)?.address;
}

beforeAll(async () => {
  // What the worker's environment holds in the farm: none of it may reach a build.
  Object.assign(process.env, {
    AOINB_WORKER_TOKEN: canary,
    AOINB_REDIS_URL: `redis://:${canary}@127.0.0.1:6379`,
    AOINB_CANARY: canary,
  });
  host = await createBuildHost();
  redis = await startRedis();
  lan = createServer((socket) => {
    lanConnections += 1;
    socket.destroy();
  });
  await new Promise<void>((resolve) => lan.listen(0, '0.0.0.0', resolve));
});
afterAll(async () => {
  process.env = saved;
  await new Promise<void>((resolve) => (lan ? lan.close(() => resolve()) : resolve()));
  await redis?.stop();
  await host?.close();
});

function probeScript(redisPort: number, lanPort: number, lanIp: string): string {
  const tcp = (label: string, ip: string, port: number) =>
    `if timeout 5 bash -c 'exec 3<>/dev/tcp/${ip}/${port}' 2>/dev/null; ` +
    `then abinfo "probe ${label}: CONNECTED"; else abinfo "probe ${label}: no route"; fi`;
  return [
    "abinfo \"probe pid1-environ: $(tr '\\0' ' ' < /proc/1/environ)\"",
    "abinfo \"probe own-environ: $(env | tr '\\n' ' ')\"",
    'abinfo "probe capbnd: $(awk \'/^CapBnd/ {print $2}\' /proc/self/status)"',
    "abinfo \"probe interfaces: $(ls /sys/class/net | tr '\\n' ' ')\"",
    tcp('redis', '127.0.0.1', redisPort),
    tcp('lan', lanIp, lanPort),
    'install -d "$PKGDIR"/usr/share/probe && echo ok > "$PKGDIR"/usr/share/probe/ok',
  ].join('\n');
}

describe('a hostile build script in the real container', () => {
  it('sees no secret, has no route to host, Redis or LAN, and lacks raw-network and admin capabilities', async () => {
    const ip = lanAddress() ?? '127.0.0.2';
    const bundle = await host.exampleBundle('probe');
    await writeFile(
      path.join(bundle, 'autobuild/build'),
      probeScript(redis.port, (lan.address() as { port: number }).port, ip),
    );
    // A data-only package: autobuild4 finds no symbols to split.
    await appendFile(path.join(bundle, 'autobuild/defines'), 'ABSPLITDBG=0\n');
    const lines: string[] = [];
    const result = await runBuild(host.ctx, {
      buildId: 'probe-1',
      bundleDir: bundle,
      branch: 'stable',
      onLogLine: (l) => lines.push(l),
    });
    expect(result.reason, lines.slice(-60).join('\n')).toBeUndefined();
    // autobuild4 colours its messages: compare the plain text.
    const plain = lines.map((l) => l.replace(/\x1b\[[0-9;]*m/g, ''));
    const probe = (name: string) => plain.find((l) => l.includes(`probe ${name}:`)) ?? `(no ${name} line)`;

    expect(probe('pid1-environ')).not.toContain(canary);
    expect(probe('pid1-environ')).not.toMatch(/AOINB_WORKER|AOINB_REDIS|AOINB_CGROUPS/);
    expect(probe('own-environ')).not.toContain(canary);
    expect(probe('own-environ')).toContain('AOINB_PKGNAME=hello-aoinb');
    expect(probe('interfaces').trim()).toMatch(/: lo$/);
    expect(probe('redis')).toMatch(/no route/);
    expect(probe('lan')).toMatch(/no route/);
    expect(lanConnections).toBe(0);
    expect((await readFile(result.logFile, 'utf8')).includes(canary)).toBe(false);

    const capbnd = BigInt(`0x${/capbnd: ([0-9a-f]+)/.exec(probe('capbnd'))?.[1] ?? 'ffffffffff'}`);
    for (const [name, bit] of Object.entries({
      CAP_NET_ADMIN: 12,
      CAP_NET_RAW: 13,
      CAP_SYS_ADMIN: 21,
      CAP_MKNOD: 27,
    })) {
      expect({ name, held: (capbnd >> BigInt(bit)) & 1n }).toEqual({ name, held: 0n });
    }
    expect(await mountsUnder(host.workDir)).toEqual([]);
  });

  it('still builds a package whose BUILDDEP comes from apt: installed first, the build itself offline', async () => {
    const bundle = await host.exampleBundle('with-dep');
    await writeFile(
      path.join(bundle, 'autobuild/defines'),
      'PKGNAME=hello-aoinb\nPKGSEC=utils\nPKGDES="Example with a build dependency"\nBUILDDEP="bc"\nABTYPE=self\n',
    );
    const build = await readFile(path.join(bundle, 'autobuild/build'), 'utf8');
    await writeFile(path.join(bundle, 'autobuild/build'), `abinfo "bc says $(echo '6 * 7' | bc)"\n${build}`);
    const lines: string[] = [];
    const result = await runBuild(host.ctx, {
      buildId: 'with-dep-1',
      bundleDir: bundle,
      branch: 'stable',
      onLogLine: (l) => lines.push(l),
    });
    expect(result.reason, lines.slice(-60).join('\n')).toBeUndefined();
    expect(result.status).toBe('succeeded');
    expect(lines).toContain('[aoinb] downloading build dependencies: bc');
    expect(lines).toContain('[aoinb] installing build dependencies (no network)');
    expect(lines.find((l) => l.includes('bc says'))).toMatch(/bc says 42/);
    expect(result.phases.dependencies).toBeGreaterThan(0);
  });

  it('fails a build whose dependency apt cannot find, naming it, before any bundle code runs', async () => {
    const bundle = await host.exampleBundle('missing-dep');
    await writeFile(
      path.join(bundle, 'autobuild/defines'),
      'PKGNAME=hello-aoinb\nPKGSEC=utils\nPKGDES="Example"\nBUILDDEP="no-such-package-aoinb"\nABTYPE=self\n',
    );
    const lines: string[] = [];
    const result = await runBuild(host.ctx, {
      buildId: 'missing-dep-1',
      bundleDir: bundle,
      branch: 'stable',
      onLogLine: (l) => lines.push(l),
    });
    expect(result.status).toBe('failed');
    expect(result.reason).toMatch(
      /build dependencies could not be installed \(resolve exited with status \d+\): no-such-package-aoinb/,
    );
    expect(result.phases.build).toBeUndefined();
    expect(lines.some((l) => l.includes('running autobuild'))).toBe(false);
  });
});
