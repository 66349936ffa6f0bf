import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from './deploy-paths.ts';

/** `.dockerignore` patterns as Docker reads the ones used here: `**\/x` (any depth) or a path from the root. */
function ignoredBy(patterns: string[], rel: string): boolean {
  const parts = rel.split('/');
  return patterns.some((p) => {
    if (p.startsWith('**/')) {
      const tail = p.slice(3);
      if (tail.startsWith('*.')) return rel.endsWith(tail.slice(1));
      return parts.slice(0, -1).includes(tail) || parts.at(-1) === tail;
    }
    return rel === p || rel.startsWith(`${p}/`);
  });
}

async function sources(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (entry.name === 'node_modules' || entry.name === 'dist') continue;
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await sources(full)));
    else if (entry.name.endsWith('.ts')) out.push(full);
  }
  return out;
}

/**
 * Test code stays out of the image: the build context drops test files,
 * the packages' test-support/ folders and the test-only packages' sources, and
 * so every source that imports a test-only package, a test helper or vitest must
 * be one of those.
 */
/** An import of a test-only package (or one of its subpaths), of a package's test-support/, or of vitest. */
const testImport = /from '(@aoinb\/(testkit|farm-harness)(\/[^']*)?|[^']*\/test-support\/[^']*|vitest(\/[^']*)?)'/;

describe('what the image leaves out', () => {
  it('drops every source that uses a test-only package (@aoinb/testkit, @aoinb/farm-harness) or helper', async () => {
    const patterns = (await readFile(path.join(repoRoot, '.dockerignore'), 'utf8'))
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('#'));
    expect(patterns).toEqual(expect.arrayContaining(['**/*.test.ts', '**/test-support', 'libs/farm-harness/src']));
    const shipped: string[] = [];
    for (const group of ['apps', 'libs']) {
      for (const file of await sources(path.join(repoRoot, group))) {
        const rel = path.relative(repoRoot, file);
        if (ignoredBy(patterns, rel)) continue;
        if (testImport.test(await readFile(file, 'utf8'))) shipped.push(rel);
      }
    }
    expect(shipped).toEqual([]);
  });

  it('reads the patterns as Docker does', () => {
    const patterns = ['**/*.test.ts', '**/test-support', 'libs/testkit/src'];
    expect(ignoredBy(patterns, 'apps/worker/src/agent.test.ts')).toBe(true);
    expect(ignoredBy(patterns, 'apps/worker/test-support/fake-executor.ts')).toBe(true);
    expect(ignoredBy(patterns, 'libs/testkit/src/index.ts')).toBe(true);
    expect(ignoredBy(patterns, 'apps/worker/src/agent.ts')).toBe(false);
    expect(ignoredBy(patterns, 'libs/testkit/package.json')).toBe(false);
  });

  it('knows a test import when it sees one', () => {
    for (const line of [
      "import { createBuildHost } from '@aoinb/testkit/build-host';",
      "import { FarmHarness } from '@aoinb/farm-harness';",
      "import { useSeamRig } from '../test-support/seam-rig.ts';",
      "import { expect } from 'vitest';",
    ])
      expect(testImport.test(line), line).toBe(true);
    expect(testImport.test("import { runBuild } from '@aoinb/buildroot';")).toBe(false);
    expect(testImport.test("import { testBundleName } from './test-bundle-name.ts';")).toBe(false);
  });
});
