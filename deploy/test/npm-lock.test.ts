import { cp, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { beforeAll, describe, expect, it } from 'vitest';
import { useTempDir } from '@aoinb/testkit/fixtures';

const root = fileURLToPath(new URL('../..', import.meta.url));

/** The committed lock, as `npm ci` (the install script, CI and deploy/Dockerfile) takes it with npm 10 and 11. */
describe('package-lock.json', () => {
  const tmp = useTempDir('aoinb-lock-');
  beforeAll(async () => {
    const manifests = (
      await execa(
        'git',
        ['ls-files', 'package.json', 'package-lock.json', 'apps/*/package.json', 'libs/*/package.json'],
        { cwd: root },
      )
    ).stdout.split('\n');
    for (const f of manifests) {
      await mkdir(path.dirname(path.join(tmp.dir, f)), { recursive: true });
      await cp(path.join(root, f), path.join(tmp.dir, f));
    }
  });

  it('lists every optional dependency, and the check fails on a lock that lacks one', async () => {
    expect(
      (
        await execa('node', [path.join(root, 'scripts/check-lock.mjs'), path.join(tmp.dir, 'package-lock.json')], {
          reject: false,
        })
      ).exitCode,
    ).toBe(0);
    const lock = JSON.parse(await readFile(path.join(tmp.dir, 'package-lock.json'), 'utf8')) as {
      packages: Record<string, unknown>;
    };
    delete lock.packages['node_modules/@msgpackr-extract/msgpackr-extract-darwin-arm64'];
    await writeFile(path.join(tmp.dir, 'broken-lock.json'), JSON.stringify(lock));
    const broken = await execa(
      'node',
      [path.join(root, 'scripts/check-lock.mjs'), path.join(tmp.dir, 'broken-lock.json')],
      { reject: false },
    );
    expect(broken.exitCode).toBe(1);
    expect(broken.stderr).toContain(
      'optional dependency @msgpackr-extract/msgpackr-extract-darwin-arm64 is not in the lock',
    );
  });

  // --dry-run: npm ci validates the lock against every package.json and the engines of
  // every locked package (--engine-strict: this machine's Node), without installing.
  for (const npm of ['npm@10', 'npm@11']) {
    it(`is accepted by ${npm} ci, engines included`, async () => {
      const run = await execa(
        'npx',
        ['-y', npm, 'ci', '--dry-run', '--engine-strict', '--ignore-scripts', '--no-audit', '--no-fund'],
        { cwd: tmp.dir, reject: false, all: true },
      );
      expect(run.exitCode, run.all).toBe(0);
    });
  }
});
