import { beforeAll, describe, expect, it } from 'vitest';
import { ensureAbbsSnapshot } from '@aoinb/testkit';
import { indexTree, type TreeIndex } from './tree-index.ts';
import { loadWholeTree, readAllGroups } from './tree-corpus.ts';

/**
 * The parser and the group reader over AOSC's whole tree (the snapshot in
 * ../shared/abbs). The figures are in docs/bundles.md
 * (`node --import tsx libs/bundle/bench/tree-corpus.ts`).
 */

/** The refusals left: bugs of the tree itself, on every arch. A parser change that moves this list shows here. */
const TREE_BUGS: Record<string, RegExp> = {
  'app-multimedia/yesplaymusic': /^autobuild\/defines:13: PKGPROV: "YesPlayMusic" is not a valid package name/,
  'app-network/ss-tproxy': /^spec:4: CHKSUMS \(checksum 1\): unknown checksum algorithm "whirlpool"/,
  'desktop-kde/kopeninghours': /^spec:2: SRCS \(source 1\): source URL "download\.kde\.org\/.*" has no scheme$/,
  'lang-java/openjdk-23':
    /^autobuild\/defines:8: PKGPROV: \$\{MAJOR_VER\}: MAJOR_VER is set in spec, but only spec variables named __\* reach defines/,
  'runtime-productivity/libkolabxml': /^spec:3: SRCS \(source 1\): source URL "ftp\.debian\.org\/.*" has no scheme$/,
};

describe('the whole ABBS tree snapshot', () => {
  let index: TreeIndex;
  beforeAll(async () => {
    index = await indexTree(await ensureAbbsSnapshot());
  });

  it('indexes every package folder', () => {
    expect(index.packages).toHaveLength(5462);
    expect(index.byFolder.get('tree')).toEqual(['app-utils/tree']);
  });

  it.each(['amd64', 'arm64', 'loongarch64'])(
    '%s: at least 99.9 percent of packages load; the rest are tree bugs named by file, line and key',
    async (arch) => {
      const report = await loadWholeTree(index, arch);
      expect(report.loaded / report.total).toBeGreaterThanOrEqual(0.999);
      expect(report.refusals.map((r) => r.package)).toEqual(Object.keys(TREE_BUGS));
      for (const r of report.refusals) {
        expect(r.message).toMatch(TREE_BUGS[r.package] as RegExp);
        expect(r.message).toMatch(/^[^:\s]+:\d+: [A-Z_]+/);
      }
    },
    600_000,
  );

  it('reads every group file, generically and for each arch', async () => {
    const report = await readAllGroups(index, ['amd64', 'arm64', 'loongarch64']);
    expect(report.groups.length).toBeGreaterThan(80);
    expect(report.groups).toContain('groups/dotnet');
    expect(report.refusals).toEqual([]);
  });
});
