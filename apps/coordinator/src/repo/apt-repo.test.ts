import { createHash } from 'node:crypto';
import { link, readdir, readFile, stat, truncate, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { useTempDir } from '@aoinb/testkit/fixtures';
import { silentLogger } from '@aoinb/logging';
import { storageLayout } from '../storage/storage-layout.ts';
import { AptRepo } from './apt-repo.ts';
import { publicKeyName, RepoSigner } from './repo-signer.ts';
import { makeTestDeb } from './repo-test-debs.ts';

const sha256 = (data: Buffer | string): string => createHash('sha256').update(data).digest('hex');

/** Stanzas as field maps (continuation lines kept with their field). */
function fieldMaps(text: string): Array<Map<string, string>> {
  return text
    .trim()
    .split(/\n\n+/)
    .map((stanza) => {
      const fields = new Map<string, string>();
      let last = '';
      for (const line of stanza.split('\n')) {
        if (/^\s/.test(line)) fields.set(last, `${fields.get(last)}\n${line}`);
        else {
          last = line.slice(0, line.indexOf(':'));
          fields.set(last, line.slice(line.indexOf(':') + 1).trim());
        }
      }
      return fields;
    });
}

describe('AptRepo (signed, incremental flat repository)', () => {
  const tmp = useTempDir('aoinb-repo-');
  let signer: RepoSigner;
  beforeAll(async () => {
    signer = await RepoSigner.open({ home: path.join(tmp.dir, 'storage/signing'), logger: silentLogger() });
  });
  afterAll(async () => {
    await signer?.close();
  });
  const layout = () => storageLayout(path.join(tmp.dir, 'storage'));

  it('keeps the farm key private (0700 home, 0600 keys), serves the public key beside the repository', async () => {
    const home = layout().signingHome;
    expect((await stat(home)).mode & 0o777).toBe(0o700);
    const keys = path.join(home, 'private-keys-v1.d');
    for (const f of await readdir(keys)) expect((await stat(path.join(keys, f))).mode & 0o077).toBe(0);
    const repo = new AptRepo(layout(), silentLogger(), { signer });
    await repo.ensure('empty');
    expect(await readFile(path.join(layout().repoDir('empty'), publicKeyName), 'utf8')).toContain(
      'BEGIN PGP PUBLIC KEY BLOCK',
    );
    expect(await readFile(path.join(layout().repoDir('empty'), 'Packages'), 'utf8')).toBe('');
  });

  it('lists every deb as dpkg-scanpackages does, appends, and signs InRelease and Release.gpg', async () => {
    const repo = new AptRepo(layout(), silentLogger(), { signer });
    const a = await makeTestDeb(path.join(tmp.dir, 'a'), 'zeta', '1.0-0', 'amd64');
    const b = await makeTestDeb(path.join(tmp.dir, 'b'), 'alpha', '2:3.1-2', 'all');
    await Promise.all([
      repo.publish('stable', [{ source: a, name: path.basename(a) }]),
      repo.publish('stable', [{ source: b, name: path.basename(b) }]),
    ]);
    const out = layout().repoDir('stable');
    const packages = await readFile(path.join(out, 'Packages'), 'utf8');
    const scanned = await execa('dpkg-scanpackages', ['-m', '.', '/dev/null'], { cwd: out });
    const theirs = new Map(fieldMaps(scanned.stdout).map((f) => [f.get('Package'), f]));
    const ours = fieldMaps(packages);
    expect(ours.map((f) => f.get('Package')).sort()).toEqual(['alpha', 'zeta']);
    for (const fields of ours) {
      const reference = theirs.get(fields.get('Package')) as Map<string, string>;
      reference.set('Filename', (reference.get('Filename') as string).replace(/^\.\//, ''));
      for (const extra of ['MD5sum', 'SHA1']) reference.delete(extra);
      expect(Object.fromEntries(fields)).toEqual(Object.fromEntries(reference));
    }
    expect(packages).toContain(`SHA256: ${sha256(await readFile(a))}`);
    expect(gunzipSync(await readFile(path.join(out, 'Packages.gz'))).toString()).toBe(packages);
    const release = await readFile(path.join(out, 'Release'), 'utf8');
    expect(release).toContain('Architectures: all amd64');
    expect(release).toContain(` ${sha256(packages)} ${Buffer.byteLength(packages)} Packages\n`);
    expect(release).toContain(
      ` ${sha256(await readFile(path.join(out, 'Packages.gz')))} ` +
        `${(await stat(path.join(out, 'Packages.gz'))).size} Packages.gz\n`,
    );
    const keyring = path.join(tmp.dir, 'farm.gpg');
    await execa('gpg', ['--dearmor', '--yes', '-o', keyring, path.join(out, publicKeyName)]);
    const inRelease = await execa('gpgv', ['--keyring', keyring, '--output', '-', path.join(out, 'InRelease')], {
      reject: false,
    });
    expect(inRelease.exitCode, String(inRelease.stderr)).toBe(0);
    expect(inRelease.stdout).toBe(release.trimEnd());
    const detached = await execa(
      'gpgv',
      ['--keyring', keyring, path.join(out, 'Release.gpg'), path.join(out, 'Release')],
      { reject: false },
    );
    expect(detached.exitCode, String(detached.stderr)).toBe(0);
    await writeFile(path.join(tmp.dir, 'tampered'), release.replace('Suite: stable', 'Suite: evil'));
    expect(
      (
        await execa('gpgv', ['--keyring', keyring, path.join(out, 'Release.gpg'), path.join(tmp.dir, 'tampered')], {
          reject: false,
        })
      ).exitCode,
    ).not.toBe(0);
  });

  it('refuses a same version with other contents, takes the same bytes again, replaces only for an admin', async () => {
    const repo = new AptRepo(layout(), silentLogger(), { signer });
    const out = layout().repoDir('stable');
    const first = path.join(tmp.dir, 'a/out/zeta_1.0-0_amd64.deb');
    expect(await repo.publish('stable', [{ source: first, name: 'zeta_1.0-0_amd64.deb' }])).toEqual({
      added: [],
      unchanged: ['zeta_1.0-0_amd64.deb'],
      replaced: [],
    });
    const rebuilt = await makeTestDeb(path.join(tmp.dir, 'rebuilt'), 'zeta', '1.0-0', 'amd64', 'again');
    const before = await readFile(path.join(out, 'Packages'), 'utf8');
    await expect(repo.publish('stable', [{ source: rebuilt, name: 'zeta_1.0-0_amd64.deb' }])).rejects.toMatchObject({
      code: 'REPO_CONFLICT',
      message: expect.stringMatching(
        /zeta 1\.0-0 \(amd64\) is already published as zeta_1\.0-0_amd64\.deb with sha256 [0-9a-f]{64}; .*bump REL/,
      ),
    });
    expect(await readFile(path.join(out, 'Packages'), 'utf8')).toBe(before);
    expect(sha256(await readFile(path.join(out, 'zeta_1.0-0_amd64.deb')))).toBe(sha256(await readFile(first)));
    // Same package and version under another file name is the same conflict.
    await expect(repo.publish('stable', [{ source: rebuilt, name: 'zeta_1.0-0_amd64+x.deb' }])).rejects.toMatchObject({
      code: 'REPO_CONFLICT',
    });
    expect(
      await repo.publish('stable', [{ source: rebuilt, name: 'zeta_1.0-0_amd64.deb' }], { replace: true }),
    ).toMatchObject({ replaced: ['zeta_1.0-0_amd64.deb'] });
    const packages = await readFile(path.join(out, 'Packages'), 'utf8');
    expect(packages).toContain(`SHA256: ${sha256(await readFile(rebuilt))}`);
    expect(packages).not.toContain(`SHA256: ${sha256(await readFile(first))}`);
    expect(packages.match(/^Package: zeta$/gm)).toHaveLength(1);
    expect(gunzipSync(await readFile(path.join(out, 'Packages.gz'))).toString()).toBe(packages);
    const temps = [...(await readdir(out)), ...(await readdir(path.join(out, '.tmp')).catch(() => []))];
    expect(temps.filter((n) => n.includes('.tmp-'))).toEqual([]);
  });

  it('refuses a deb it cannot read, naming it, and publishes nothing of that batch', async () => {
    const repo = new AptRepo(layout(), silentLogger(), { signer });
    const good = await makeTestDeb(path.join(tmp.dir, 'unreadable'), 'kappa', '1.0-0', 'amd64');
    const bad = path.join(tmp.dir, 'unreadable', 'broken.deb');
    await writeFile(bad, (await readFile(good)).subarray(0, 200));
    await repo.ensure('unreadable');
    const before = await readFile(path.join(layout().repoDir('unreadable'), 'Packages'), 'utf8');
    const files = [
      { source: good, name: 'kappa_1.0-0_amd64.deb' },
      { source: bad, name: 'lambda_1.0-0_amd64.deb' },
    ];
    await expect(repo.publish('unreadable', files)).rejects.toMatchObject({
      code: 'ARTIFACT_INVALID',
      message: expect.stringMatching(/^lambda_1\.0-0_amd64\.deb is not a valid \.deb: truncated/),
    });
    expect(await readFile(path.join(layout().repoDir('unreadable'), 'Packages'), 'utf8')).toBe(before);
  });

  it('signs one Release for the publishes that queued up meanwhile', async () => {
    const repo = new AptRepo(layout(), silentLogger(), { signer });
    await repo.ensure('busy');
    const debs = await Promise.all(
      [1, 2, 3, 4, 5, 6].map((i) => makeTestDeb(path.join(tmp.dir, `busy${i}`), `busy${i}`, '1.0-0', 'amd64')),
    );
    const sign = vi.spyOn(signer, 'sign');
    try {
      const out = layout().repoDir('busy');
      await Promise.all(
        debs.map(async (deb) => {
          await repo.publish('busy', [{ source: deb, name: path.basename(deb) }]);
          expect(await readFile(path.join(out, 'Packages'), 'utf8')).toContain(`Filename: ${path.basename(deb)}\n`);
        }),
      );
      const packages = await readFile(path.join(out, 'Packages'));
      expect(await readFile(path.join(out, 'Release'), 'utf8')).toContain(
        ` ${sha256(packages)} ${packages.length} Packages\n`,
      );
      expect(sign.mock.calls.length).toBeGreaterThanOrEqual(1);
      expect(sign.mock.calls.length).toBeLessThan(debs.length);
    } finally {
      sign.mockRestore();
    }
  });

  it('removes at its next start what a killed coordinator left (a deb link, an index half written)', async () => {
    const out = layout().repoDir('interrupted');
    const deb = await makeTestDeb(path.join(tmp.dir, 'interrupted'), 'iota', '1.0-0', 'amd64');
    const first = new AptRepo(layout(), silentLogger(), { signer });
    await first.publish('interrupted', [{ source: deb, name: path.basename(deb) }]);
    const dead = (await execa('sh', ['-c', 'echo $$'])).stdout.trim();
    const leftovers = [`.${path.basename(deb)}.tmp-${dead}`, `Packages.tmp-${dead}`];
    await link(deb, path.join(out, leftovers[0]!));
    await writeFile(path.join(out, leftovers[1]!), 'Package: half');
    // A live process's file is its publish in flight: left alone.
    const inFlight = `Release.tmp-${process.ppid}`;
    await writeFile(path.join(out, inFlight), '');
    const restarted = new AptRepo(layout(), silentLogger(), { signer });
    await restarted.publish('interrupted', [{ source: deb, name: path.basename(deb) }]);
    const names = await readdir(out);
    for (const name of leftovers) expect(names).not.toContain(name);
    expect(names).toContain(inFlight);
    expect((await stat(deb)).nlink).toBe(2);
  });

  it("sweeps a killed coordinator's temporary files at the next lock, with no restart (two coordinators)", async () => {
    const out = layout().repoDir('swept');
    const deb = await makeTestDeb(path.join(tmp.dir, 'swept'), 'kappa', '1.0-0', 'amd64');
    const survivor = new AptRepo(layout(), silentLogger(), { signer });
    await survivor.publish('swept', [{ source: deb, name: path.basename(deb) }]);
    const dead = (await execa('sh', ['-c', 'echo $$'])).stdout.trim();
    const leftovers = [`.index-state.json.tmp-${dead}`, `Packages.tmp-${dead}`];
    for (const name of leftovers) await writeFile(path.join(out, '.tmp', name), 'half');
    const inFlight = `Release.tmp-${process.ppid}`;
    await writeFile(path.join(out, '.tmp', inFlight), '');
    const again = await makeTestDeb(path.join(tmp.dir, 'swept'), 'lambda', '1.0-0', 'amd64');
    await survivor.publish('swept', [{ source: again, name: path.basename(again) }]);
    expect(await readdir(path.join(out, '.tmp'))).toEqual([inFlight]);
    expect((await readdir(out)).filter((n) => n.includes('.tmp-'))).toEqual([]);
  });

  it('loads the index from Packages after a restart, without reading the debs', async () => {
    const out = layout().repoDir('stable');
    const packages = await readFile(path.join(out, 'Packages'), 'utf8');
    // A deb damaged on disk: a restart that re-read debs would see other facts.
    await truncate(path.join(out, 'alpha_3.1-2_noarch.deb'), 10);
    const repo = new AptRepo(layout(), silentLogger(), { signer });
    const index = await repo.index('stable');
    expect(index.entries.size).toBe(2);
    const c = await makeTestDeb(path.join(tmp.dir, 'c'), 'gamma', '1', 'amd64');
    await repo.publish('stable', [{ source: c, name: path.basename(c) }]);
    const after = await readFile(path.join(out, 'Packages'), 'utf8');
    expect(after.startsWith(packages)).toBe(true);
    expect(gunzipSync(await readFile(path.join(out, 'Packages.gz'))).toString()).toBe(after);
  });

  it('serves earlier index states by hash (no Packages.xz), starts from the saved state, not Packages', async () => {
    const out = layout().repoDir('hashed');
    const repo = new AptRepo(layout(), silentLogger(), { signer });
    const a = await makeTestDeb(path.join(tmp.dir, 'h-a'), 'hash-a', '1.0', 'amd64');
    const b = await makeTestDeb(path.join(tmp.dir, 'h-b'), 'hash-b', '1.0', 'amd64');
    await repo.publish('hashed', [{ source: a, name: path.basename(a) }]);
    const first = await readFile(path.join(out, 'Release'), 'utf8');
    const firstPackages = await readFile(path.join(out, 'Packages'), 'utf8');
    await repo.publish('hashed', [{ source: b, name: path.basename(b) }]);
    const packages = await readFile(path.join(out, 'Packages'), 'utf8');
    const gz = await readFile(path.join(out, 'Packages.gz'));
    expect(gunzipSync(gz).toString()).toBe(packages);
    // apt would read only the first stream of appended xz streams: no Packages.xz until it is one stream.
    await expect(stat(path.join(out, 'Packages.xz'))).rejects.toThrow();
    const release = await readFile(path.join(out, 'Release'), 'utf8');
    expect(release).toContain('\nAcquire-By-Hash: yes\n');
    for (const name of ['Packages', 'Packages.gz']) {
      const data = await readFile(path.join(out, name));
      expect(release).toContain(` ${sha256(data)} ${data.length} ${name}\n`);
    }
    // The first Release's Packages.gz, by its hash: a prefix of today's file, what that Release named.
    const [, oldGz, oldSize] = / ([0-9a-f]{64}) (\d+) Packages\.gz$/m.exec(first)!;
    const found = await repo.byHash('hashed', oldGz!);
    expect(found?.size).toBe(Number(oldSize));
    const prefix = gz.subarray(0, found!.size);
    expect(sha256(prefix)).toBe(oldGz);
    expect(gunzipSync(prefix).toString()).toBe(firstPackages);
    expect(await repo.byHash('hashed', '0'.repeat(64))).toBeUndefined();
    expect(await repo.byHash('no-such-repo', oldGz!)).toBeUndefined();
    await expect(stat(layout().repoDir('no-such-repo'))).rejects.toThrow();

    // A start trusts the saved state (same sizes): Packages itself is not read.
    await writeFile(path.join(out, 'Packages'), 'x'.repeat(Buffer.byteLength(packages)));
    const restarted = new AptRepo(layout(), silentLogger(), { signer });
    expect([...(await restarted.index('hashed')).entries.keys()].sort()).toEqual(
      [path.basename(a), path.basename(b)].sort(),
    );
    await writeFile(path.join(out, 'Packages'), packages);
    // A crash between two appends (Packages.gz longer than saved): rebuilt from Packages at the next start.
    await writeFile(path.join(out, 'Packages.gz'), Buffer.concat([await readFile(path.join(out, 'Packages.gz')), gz]));
    const rebuilt = new AptRepo(layout(), silentLogger(), { signer });
    const c = await makeTestDeb(path.join(tmp.dir, 'h-c'), 'hash-c', '1.0', 'amd64');
    await rebuilt.publish('hashed', [{ source: c, name: path.basename(c) }]);
    const now = await readFile(path.join(out, 'Packages'), 'utf8');
    expect(now.match(/^Package: /gm)).toHaveLength(3);
    expect(gunzipSync(await readFile(path.join(out, 'Packages.gz'))).toString()).toBe(now);
    // After a compaction (an admin's replacement), the state before it is still served by hash.
    const beforeGz = await readFile(path.join(out, 'Packages.gz'));
    const c2 = await makeTestDeb(path.join(tmp.dir, 'h-c2'), 'hash-c', '1.0', 'amd64', 'other contents');
    await rebuilt.publish('hashed', [{ source: c2, name: path.basename(c2) }], { replace: true });
    const kept = await rebuilt.byHash('hashed', sha256(beforeGz));
    expect(kept).toBeDefined();
    expect(sha256((await readFile(kept!.file)).subarray(0, kept!.size))).toBe(sha256(beforeGz));
  });

  it('prunes versions beyond repo_keep_versions in a compaction, debs deleted after the index drops them', async () => {
    const repo = new AptRepo(layout(), silentLogger(), { signer, keepVersions: 2, compactAfter: 1 });
    const out = layout().repoDir('kept');
    for (const version of ['1.0-1', '1.10-0', '1.9-0', '1.0~rc1-0']) {
      const deb = await makeTestDeb(path.join(tmp.dir, `k${version}`), 'kappa', version, 'amd64');
      await repo.publish('kept', [{ source: deb, name: path.basename(deb) }]);
    }
    await repo.idle('kept');
    const packages = await readFile(path.join(out, 'Packages'), 'utf8');
    expect(
      fieldMaps(packages)
        .map((f) => f.get('Version'))
        .sort(),
    ).toEqual(['1.10-0', '1.9-0']);
    expect((await readdir(out)).filter((n) => n.endsWith('.deb')).sort()).toEqual([
      'kappa_1.10-0_amd64.deb',
      'kappa_1.9-0_amd64.deb',
    ]);
    const release = await readFile(path.join(out, 'Release'), 'utf8');
    expect(release).toContain(` ${sha256(packages)} ${Buffer.byteLength(packages)} Packages\n`);
  });
});
