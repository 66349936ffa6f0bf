/**
 * The parser and the group reader over AOSC's whole tree: per arch, how many
 * packages load and why the others are refused; every group file read for
 * every arch. Prints markdown for docs/bundles.md.
 *
 *   node --import tsx libs/bundle/bench/tree-corpus.ts [ABBS_DIR]
 *
 * Without ABBS_DIR it reads the snapshot in ../shared/abbs (unpacked once
 * into the test kit cache).
 */
import { ensureAbbsSnapshot } from '@aoinb/testkit';
import { indexTree } from '../src/tree-index.ts';
import { loadWholeTree, readAllGroups } from '../src/tree-corpus.ts';

const ARCHS = ['amd64', 'arm64', 'loongarch64'];

const started = performance.now();
const tree = process.argv[2] ?? (await ensureAbbsSnapshot());
const index = await indexTree(tree);
console.log(`Tree: ${tree} (${index.packages.length} packages)\n`);
console.log('| Arch | Loaded | Total | Share |');
console.log('| --- | ---: | ---: | ---: |');
const reports = [];
for (const arch of ARCHS) {
  const r = await loadWholeTree(index, arch);
  reports.push(r);
  console.log(`| ${arch} | ${r.loaded} | ${r.total} | ${((100 * r.loaded) / r.total).toFixed(2)}% |`);
}
console.log('\nRefusals (archs in brackets):\n');
const byMessage = new Map<string, string[]>();
for (const r of reports)
  for (const f of r.refusals)
    byMessage.set(`${f.package}: ${f.message}`, [...(byMessage.get(`${f.package}: ${f.message}`) ?? []), r.arch]);
for (const [line, archs] of [...byMessage].sort()) console.log(`- \`${line}\` [${archs.join(', ')}]`);
const groups = await readAllGroups(index, ARCHS);
console.log(
  `\nGroup files: ${groups.groups.length} read generically and ` +
    `for ${ARCHS.join(', ')}; ${groups.refusals.length} refused`,
);
for (const g of groups.refusals) console.log(`- ${g.group} [${g.arch ?? 'any'}]: ${g.message}`);
console.log(`\nTime: ${((performance.now() - started) / 1000).toFixed(1)} s`);
