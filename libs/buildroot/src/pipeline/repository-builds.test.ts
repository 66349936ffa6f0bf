import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ExtraAptSource } from '../build-types.ts';
import { layoutOf } from '../context.ts';
import { mountsUnder } from '../host/mount-table.ts';
import { createBuildHost, type BuildHost } from '@aoinb/testkit/build-host';
import { runBuild } from './run-build.ts';

/**
 * Builds with an extra apt repository (a group's, the common case for a batch) through
 * the real pipeline, against a flat repository served on loopback: their dependencies
 * come from the host's shared apt cache, checked by SHA256, so a second build with the
 * same BUILDDEP downloads nothing; and a file in the cache with the repository
 * package's own name and size but other bytes (which apt alone would install) is not used.
 */
let host: BuildHost;
let server: Server;
let source: ExtraAptSource;
let realDeb: Buffer;
/** What the repository served: request paths, in order. */
const served: string[] = [];
const debName = 'aoinb-grouplib_1.0_all.deb';
const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

/** A flat repository with one package, as the coordinator's group repository is (unsigned here). */
async function writeRepository(dir: string): Promise<void> {
  const pkg = path.join(dir, 'pkg');
  await mkdir(path.join(pkg, 'DEBIAN'), { recursive: true });
  await mkdir(path.join(pkg, 'usr/share/aoinb-grouplib'), { recursive: true });
  await writeFile(path.join(pkg, 'usr/share/aoinb-grouplib/marker'), 'group 1\n');
  const control = ['Package: aoinb-grouplib', 'Version: 1.0', 'Architecture: all', 'Maintainer: t <t@localhost>'];
  await writeFile(path.join(pkg, 'DEBIAN/control'), [...control, 'Description: group repository test', ''].join('\n'));
  const repo = path.join(dir, 'repo');
  await mkdir(repo);
  await execa('dpkg-deb', ['--build', '--root-owner-group', pkg, path.join(repo, debName)]);
  realDeb = await readFile(path.join(repo, debName));
  const stanza = [...control, `Filename: ./${debName}`, `Size: ${realDeb.length}`, `SHA256: ${sha256(realDeb)}`];
  const packages = Buffer.from([...stanza, 'Description: group repository test', '', ''].join('\n'));
  await writeFile(path.join(repo, 'Packages'), packages);
  const release = ['Codename: aoinb-test', `Date: ${new Date().toUTCString()}`, 'SHA256:'];
  await writeFile(
    path.join(repo, 'Release'),
    [...release, ` ${sha256(packages)} ${packages.length} Packages`, ''].join('\n'),
  );
}

function serve(dir: string): Promise<number> {
  server = createServer((req, res) => {
    const name = path.basename(new URL(req.url ?? '/', 'http://x').pathname);
    served.push(name);
    readFile(path.join(dir, name)).then(
      (body) => res.writeHead(200, { 'content-length': body.length }).end(body),
      () => res.writeHead(404).end(),
    );
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));
}

beforeAll(async () => {
  host = await createBuildHost();
  await writeRepository(path.join(host.dir, 'group'));
  const port = await serve(path.join(host.dir, 'group', 'repo'));
  source = { name: 'aoinb-group-test', line: `deb [trusted=yes] http://127.0.0.1:${port}/ ./` };
});
afterAll(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
  await host?.close();
});

async function groupBuild(buildId: string) {
  const bundle = await host.exampleBundle(buildId);
  const defines = 'PKGNAME=hello-aoinb\nPKGSEC=utils\nPKGDES="Example"\nBUILDDEP="bc aoinb-grouplib"\nABTYPE=self\n';
  await writeFile(path.join(bundle, 'autobuild/defines'), defines);
  const build = await readFile(path.join(bundle, 'autobuild/build'), 'utf8');
  const checks = 'abinfo "bc says $(echo \'6 * 7\' | bc), marker says $(cat /usr/share/aoinb-grouplib/marker)"\n';
  await writeFile(path.join(bundle, 'autobuild/build'), `${checks}${build}`);
  const lines: string[] = [];
  const result = await runBuild(host.ctx, {
    buildId,
    bundleDir: bundle,
    branch: 'stable',
    extraAptSources: [source],
    onLogLine: (l) => lines.push(l),
  });
  expect(result.reason, lines.slice(-60).join('\n')).toBeUndefined();
  expect(lines.find((l) => l.includes('bc says'))).toMatch(/bc says 42, marker says group 1/);
  return lines.join('\n');
}

/** apt's `Get:` lines for package archives (not lists): `Get:N URI SUITE [COMPONENT ARCH] NAME ... VERSION [SIZE]`. */
const archiveGets = (log: string) =>
  log.split('\n').filter((l) => /^Get:\d+ \S+ .*\b(bc|libreadline\S*|readline-common|aoinb-grouplib) /.test(l));

describe('builds with an extra apt repository share the host apt cache, by SHA256', () => {
  it('download nothing twice; a cached file of the same name and size, other bytes, is never installed', async () => {
    const cacheDir = layoutOf(host.ctx).aptCacheDir;
    await mkdir(cacheDir, { recursive: true });
    // Same name, same size, other bytes: apt itself would hand this to dpkg.
    const shadow = Buffer.alloc(realDeb.length, 0x5a);
    await writeFile(path.join(cacheDir, debName), shadow);

    const first = await groupBuild('group-first');
    expect(
      archiveGets(first).some((l) => l.includes('aoinb-grouplib')),
      first,
    ).toBe(true);
    expect(first).toMatch(/\[aoinb\] \d+ archive\(s\) added to the host's apt cache/);
    expect(served.filter((p) => p === debName)).toHaveLength(1);
    // The repository's file is kept by digest only; the shadow under apt's name is left as it was.
    expect(await readFile(path.join(cacheDir, 'by-sha256', `${sha256(realDeb)}.deb`))).toEqual(realDeb);
    expect(await readFile(path.join(cacheDir, debName))).toEqual(shadow);
    expect((await readdir(cacheDir)).some((f) => /^bc_.*\.deb$/.test(f))).toBe(true);

    const second = await groupBuild('group-second');
    const taken = /\[aoinb\] (\d+) of (\d+) archive\(s\) taken from the host's apt cache/.exec(second);
    expect(taken, second).not.toBeNull();
    expect(Number(taken![2])).toBeGreaterThanOrEqual(2);
    expect(taken![1]).toBe(taken![2]);
    expect(second).toMatch(/^Need to get 0 B\/[\d.,]+ [kM]?B of archives\./m);
    expect(archiveGets(second)).toEqual([]);
    expect(second).not.toContain("added to the host's apt cache");
    expect(served.filter((p) => p === debName)).toHaveLength(1);
    expect(await mountsUnder(host.workDir)).toEqual([]);
  });
});
