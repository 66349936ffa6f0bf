import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useTempDir } from '@aoinb/testkit/fixtures';
import { silentLogger } from '@aoinb/logging';
import { ensureTestBaseos, mountOverlayFixture, mountsUnder, runInNspawn, type TestBaseos } from '@aoinb/testkit';
import type { CoordinatorContext } from '../context.ts';
import { repoRoutes } from '../http/routes/repo.ts';
import { storageLayout } from '../storage/storage-layout.ts';
import { AptRepo } from './apt-repo.ts';
import { publicKeyName, RepoSigner } from './repo-signer.ts';
import { makeTestDeb } from './repo-test-debs.ts';

/**
 * Real apt (Debian trixie's, in a container of the test base OS) against the
 * farm's repository route: signed, checked with `signed-by=`, no `[trusted=yes]`.
 */
describe('the signed repository through real apt in a container', () => {
  const tmp = useTempDir('aoinb-apt-signed-');
  let signer: RepoSigner;
  let other: RepoSigner;
  let repo: AptRepo;
  let app: FastifyInstance;
  let url: string;
  let baseos: TestBaseos;
  const requested: string[] = [];
  /** Run before a by-hash request is answered: a publish landing between apt's InRelease and its index fetch. */
  let beforeByHash: (() => Promise<unknown>) | undefined;

  beforeAll(async () => {
    baseos = await ensureTestBaseos();
    const layout = storageLayout(path.join(tmp.dir, 'storage'));
    signer = await RepoSigner.open({ home: layout.signingHome, logger: silentLogger() });
    other = await RepoSigner.open({ home: path.join(tmp.dir, 'other-key'), logger: silentLogger() });
    repo = new AptRepo(layout, silentLogger(), { signer });
    app = Fastify();
    app.addHook('onRequest', async (request) => {
      requested.push(request.url);
      if (request.url.includes('/by-hash/') && beforeByHash) {
        const run = beforeByHash;
        beforeByHash = undefined;
        await run();
      }
    });
    // The coordinator's own route; it reads nothing of the context but the storage layout.
    repoRoutes(app, { layout, repo } as unknown as CoordinatorContext);
    url = await app.listen({ host: '127.0.0.1', port: 0 });
  });
  afterAll(async () => {
    await app?.close();
    await signer?.close();
    await other?.close();
  });

  async function apt(key: string, script: string): Promise<{ exitCode: number | undefined; all: string }> {
    const overlay = await mountOverlayFixture({ lower: baseos.rootfsDir, parentDir: tmp.dir });
    try {
      await mkdir(path.join(overlay.merged, 'etc/apt/keyrings'), { recursive: true });
      await writeFile(path.join(overlay.merged, 'etc/apt/keyrings', publicKeyName), key);
      await writeFile(
        path.join(overlay.merged, 'etc/apt/sources.list'),
        `deb [signed-by=/etc/apt/keyrings/${publicKeyName}] ${url}/repo/stable ./\n`,
      );
      await rm(path.join(overlay.merged, 'etc/apt/sources.list.d'), { recursive: true, force: true });
      return await runInNspawn({
        root: overlay.merged,
        command: ['/bin/sh', '-c', script],
        env: { DEBIAN_FRONTEND: 'noninteractive' },
      });
    } finally {
      await overlay.unmount();
    }
  }

  it('apt-get update verifies the InRelease with the served key, installs what later publishes appended', async () => {
    const first = await makeTestDeb(path.join(tmp.dir, 'first'), 'aoinb-first', '1.0-0', 'all');
    await repo.publish('stable', [{ source: first, name: path.basename(first) }]);
    const second = await makeTestDeb(path.join(tmp.dir, 'second'), 'aoinb-second', '2:0.5-1', baseos.arch);
    await repo.publish('stable', [{ source: second, name: path.basename(second) }]);
    const key = await (await fetch(`${url}/repo/stable/${publicKeyName}`)).text();
    expect(key).toBe(signer.publicKey);
    const run = await apt(
      key,
      'apt-get update --error-on=any 2>&1 && apt-get install -y -q aoinb-first aoinb-second && ' +
        'dpkg-query -W aoinb-first aoinb-second',
    );
    expect(run.exitCode, run.all).toBe(0);
    expect(run.all).not.toMatch(/not signed|NO_PUBKEY|unauthenticated/i);
    expect(run.all).toMatch(/aoinb-first\t1\.0-0/);
    expect(run.all).toMatch(/aoinb-second\t2:0\.5-1/);
    // apt took the signed InRelease and the gzip index (two appended members) by its hash, not by name.
    const files = requested.map((u) => u.replace(/^\/repo\/stable\/(\.\/)*/, ''));
    expect(files, requested.join(' ')).toContain('InRelease');
    const release = await (await fetch(`${url}/repo/stable/Release`)).text();
    const gz = / ([0-9a-f]{64}) \d+ Packages\.gz$/m.exec(release)![1];
    expect(files, requested.join(' ')).toContain(`by-hash/SHA256/${gz}`);
    expect(files).not.toContain('Packages.gz');
    expect(files).not.toContain('Packages');
    expect(await mountsUnder(tmp.dir)).toEqual([]);
  });

  it('apt-get update succeeds when a publish lands between its InRelease and its index fetch', async () => {
    const late = await makeTestDeb(path.join(tmp.dir, 'late'), 'aoinb-late', '1.0-0', baseos.arch);
    let published = false;
    beforeByHash = async () => {
      await repo.publish('stable', [{ source: late, name: path.basename(late) }]);
      published = true;
    };
    // Without by-hash apt would get the longer Packages.gz and fail: "Hash Sum mismatch".
    const run = await apt(
      signer.publicKey,
      'apt-get update --error-on=any 2>&1 && apt-cache policy aoinb-late aoinb-second 2>&1',
    );
    expect(run.exitCode, run.all).toBe(0);
    expect(published).toBe(true);
    expect(run.all).not.toMatch(/Hash Sum mismatch|unexpected size/i);
    // That update's index is the one its InRelease named: without the deb published meanwhile.
    expect(run.all).toMatch(/aoinb-second:\s+Installed: \(none\)\s+Candidate: 2:0\.5-1/);
    expect(run.all).not.toMatch(/aoinb-late:\s+Installed: \(none\)\s+Candidate: 1\.0-0/);
    const next = await apt(signer.publicKey, 'apt-get update --error-on=any 2>&1 && apt-cache policy aoinb-late');
    expect(next.all).toMatch(/aoinb-late:\s+Installed: \(none\)\s+Candidate: 1\.0-0/);
  });

  it('apt-get update refuses the repository when the key does not match', async () => {
    const run = await apt(other.publicKey, 'apt-get update --error-on=any 2>&1');
    expect(run.exitCode).not.toBe(0);
    expect(run.all).toMatch(/NO_PUBKEY|not signed|The following signatures couldn't be verified/);
  });
});
