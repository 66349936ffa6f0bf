import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useTempDir } from '@aoinb/testkit/fixtures';
import { silentLogger } from '@aoinb/logging';
import { storageLayout } from '../storage/storage-layout.ts';
import { AptRepo } from './apt-repo.ts';
import { RepoSigner } from './repo-signer.ts';
import { makeTestDeb } from './repo-test-debs.ts';

const sha256 = (data: Buffer | string): string => createHash('sha256').update(data).digest('hex');

/**
 * Two AptRepo writers on one storage folder, as two coordinators sharing it:
 * each takes `<repo>.lock` with flock(1) (its own open file, so the two
 * exclude each other as two processes would) and catches its index up with
 * the other's writes. The cross-process case runs in two-coordinators.test.ts.
 */
describe('one repository, two writers sharing the storage', () => {
  const tmp = useTempDir('aoinb-shared-repo-');
  let signer: RepoSigner;
  beforeAll(async () => {
    signer = await RepoSigner.open({ home: path.join(tmp.dir, 'storage/signing'), logger: silentLogger() });
  });
  afterAll(async () => {
    await signer?.close();
  });
  const layout = () => storageLayout(path.join(tmp.dir, 'storage'));

  async function check(out: string, names: string[]): Promise<void> {
    const packages = await readFile(path.join(out, 'Packages'));
    expect(gunzipSync(await readFile(path.join(out, 'Packages.gz'))).equals(packages)).toBe(true);
    const listed = [...packages.toString().matchAll(/^Filename: (.+)$/gm)].map((m) => m[1]);
    expect(listed.sort()).toEqual([...names].sort());
    const release = await readFile(path.join(out, 'Release'), 'utf8');
    expect(release).toContain(` ${sha256(packages)} ${packages.length} Packages\n`);
    expect(await readFile(path.join(out, 'InRelease'), 'utf8')).toContain(sha256(packages));
    const temps = [...(await readdir(out)), ...(await readdir(path.join(out, '.tmp')).catch(() => []))];
    expect(temps.filter((f) => f.includes('.tmp-'))).toEqual([]);
  }

  it('lists each deb of interleaved publishes once, index and Release in step, after either compacts', async () => {
    const one = new AptRepo(layout(), silentLogger(), { signer });
    const two = new AptRepo(layout(), silentLogger(), { signer });
    const debs = await Promise.all(
      Array.from({ length: 12 }, (_, i) => makeTestDeb(path.join(tmp.dir, `d${i}`), `pkg${i}`, '1.0-0', 'amd64')),
    );
    await one.ensure('stable');
    await two.ensure('stable');
    await Promise.all(
      debs.map((source, i) => (i % 2 ? one : two).publish('stable', [{ source, name: path.basename(source) }])),
    );
    const out = layout().repoDir('stable');
    const names = debs.map((d) => path.basename(d));
    await check(out, names);
    // Each writer knows the other's debs: the same bytes again change nothing, on either.
    expect((await one.publish('stable', [{ source: debs[0]!, name: names[0]! }])).unchanged).toEqual([names[0]]);
    expect((await two.publish('stable', [{ source: debs[1]!, name: names[1]! }])).unchanged).toEqual([names[1]]);

    // One rewrites the index (an admin's replace); the other then publishes on top of the new index.
    const rebuilt = await makeTestDeb(path.join(tmp.dir, 'r'), 'pkg3', '1.0-0', 'amd64', 'again');
    const replaced = await one.publish('stable', [{ source: rebuilt, name: names[3]! }], { replace: true });
    expect(replaced.replaced).toEqual([names[3]]);
    const late = await makeTestDeb(path.join(tmp.dir, 'late'), 'late', '1.0-0', 'amd64');
    await two.publish('stable', [{ source: late, name: path.basename(late) }]);
    await Promise.all([one.idle('stable'), two.idle('stable')]);
    await check(out, [...names, path.basename(late)]);
    const packages = await readFile(path.join(out, 'Packages'), 'utf8');
    expect(packages).toContain(`SHA256: ${sha256(await readFile(rebuilt))}`);

    // A third writer (a coordinator started later) loads what both wrote.
    const three = new AptRepo(layout(), silentLogger(), { signer });
    expect((await three.index('stable')).entries.size).toBe(13);
  });
});
