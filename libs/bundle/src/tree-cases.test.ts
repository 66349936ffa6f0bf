import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureAbbsSnapshot } from '@aoinb/testkit';
import { loadBundle } from './load-bundle.ts';

/** The classes the parser used to refuse, on the real packages of the snapshot that show them. */
describe('real tree packages acbs and autobuild4 accept', () => {
  let tree: string;
  const load = (pkg: string, arch = 'amd64') => loadBundle(path.join(tree, pkg), arch);
  beforeAll(async () => {
    tree = await ensureAbbsSnapshot();
  });

  it('spec variables named __* reach defines (runtime-kernel/linux-kernel)', async () => {
    const b = await load('runtime-kernel/linux-kernel');
    expect(b.mainPackage.name).toBe(`linux-kernel-${b.spec.version}`);
  });

  it('REL may be a dpkg revision such as 0retro1 (app-admin/lilo)', async () => {
    expect((await load('app-admin/lilo')).spec.release).toBe('0retro1');
  });

  it('an unset variable expands to "" (app-a11y/brltty, app-multimedia/ffmpeg)', async () => {
    expect((await load('app-a11y/brltty')).mainPackage.defines.deps.BUILDDEP).toEqual([]);
    const ffmpeg = (await load('app-multimedia/ffmpeg')).mainPackage.defines.deps.BUILDDEP.map((d) => d.name);
    expect(ffmpeg).toEqual(['yasm', 'ffnvcodec', 'llvm']);
  });

  it('hook functions and aliases in defines are skipped (espeak-ng, maxima, ldb)', async () => {
    expect((await load('app-multimedia/espeak-ng')).mainPackage.name).toBe('espeak-ng');
    expect((await load('app-scientific/maxima')).mainPackage.defines.vars.has('MAKE_AFTER')).toBe(false);
    expect((await load('app-database/ldb')).mainPackage.defines.epoch).toBe('2');
  });

  it('if [[ ... ]] on the arch is evaluated (app-utils/pinentry)', async () => {
    const names = async (arch: string) =>
      (await load('app-utils/pinentry', arch)).mainPackage.defines.deps.BUILDDEP.map((d) => d.name);
    expect(await names('amd64')).toContain('qt-5');
    expect(await names('riscv64')).not.toContain('qt-5');
  });

  it('CHKSUMS="" and sha256::SKIP on git sources mean no checksum (cpuburn-arm, genpac)', async () => {
    expect((await load('app-utils/cpuburn-arm', 'arm64')).sources).toMatchObject([{ type: 'git', checksum: null }]);
    expect((await load('app-network/genpac')).sources).toMatchObject([{ type: 'git', checksum: null }]);
  });

  it('FAIL_ARCH="(a|b)" excludes a and b (app-games/desmume)', async () => {
    expect((await load('app-games/desmume', 'arm64')).archAllowed).toBe(false);
    expect((await load('app-games/desmume', 'amd64')).archAllowed).toBe(true);
  });
});
