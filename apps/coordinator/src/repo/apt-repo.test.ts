import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '@aoinb/logging';
import { storageLayout } from '../storage/storage-layout.ts';
import { AptRepo } from './apt-repo.ts';

async function makeDeb(dir: string, name: string, version: string, arch: string): Promise<string> {
  const root = path.join(dir, `${name}-${arch}-root`);
  await mkdir(path.join(root, 'DEBIAN'), { recursive: true });
  await writeFile(path.join(root, 'DEBIAN/control'), `Package: ${name}\nVersion: ${version}\nArchitecture: ${arch}\nMaintainer: t <t@t>\nDescription: test\n multi-line description\n`);
  const file = path.join(dir, `${name}_${version.replace(/^\d+:/, '')}_${arch === 'all' ? 'noarch' : arch}.deb`);
  await execa('dpkg-deb', ['--root-owner-group', '-Zgzip', '--build', root, file]);
  return file;
}

describe('AptRepo (flat repository per branch)', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'aoinb-repo-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('writes Packages, Packages.gz and Release that describe every published deb', async () => {
    const layout = storageLayout(path.join(dir, 'storage'));
    const repo = new AptRepo(layout, silentLogger());
    const a = await makeDeb(dir, 'zeta', '1.0-0', 'amd64');
    const b = await makeDeb(dir, 'alpha', '2:3.1-2', 'all');
    await Promise.all([repo.publish('stable', [{ source: a, name: path.basename(a) }]), repo.publish('stable', [{ source: b, name: path.basename(b) }])]);
    const out = layout.repoDir('stable');
    const packages = await readFile(path.join(out, 'Packages'), 'utf8');
    const stanzas = packages.trim().split('\n\n');
    expect(stanzas).toHaveLength(2);
    expect(stanzas[0]).toMatch(/^Package: alpha\nVersion: 2:3.1-2\nArchitecture: all\n/);
    expect(stanzas[0]).toContain(' multi-line description');
    const debSha = createHash('sha256').update(await readFile(a)).digest('hex');
    expect(stanzas[1]).toContain(`Filename: zeta_1.0-0_amd64.deb\nSize: `);
    expect(stanzas[1]).toContain(`SHA256: ${debSha}`);
    expect(gunzipSync(await readFile(path.join(out, 'Packages.gz'))).toString()).toBe(packages);
    const release = await readFile(path.join(out, 'Release'), 'utf8');
    expect(release).toContain('Architectures: all amd64');
    expect(release).toContain(` ${createHash('sha256').update(packages).digest('hex')} ${Buffer.byteLength(packages)} Packages\n`);
  });

  it('replaces a deb of the same name and keeps the index in step', async () => {
    const layout = storageLayout(path.join(dir, 'storage'));
    const repo = new AptRepo(layout, silentLogger());
    await mkdir(path.join(dir, 'newer'), { recursive: true });
    const newer = await makeDeb(path.join(dir, 'newer'), 'zeta', '1.0-0', 'amd64');
    await repo.publish('stable', [{ source: newer, name: 'zeta_1.0-0_amd64.deb' }]);
    const sha = createHash('sha256').update(await readFile(newer)).digest('hex');
    expect(await readFile(path.join(layout.repoDir('stable'), 'Packages'), 'utf8')).toContain(`SHA256: ${sha}`);
  });
});
