import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureAbbsSnapshot } from '@aoinb/testkit';
import { packForSubmit } from './submit-bundles.ts';

const bin = fileURLToPath(new URL('../../bin/aoinb.js', import.meta.url));

describe('aoinb submit --tree', () => {
  let tree: string;
  beforeAll(async () => {
    tree = await ensureAbbsSnapshot();
  });

  it('packs packages of the tree by name and category/name', async () => {
    const packed = await packForSubmit(tree, ['tree', 'app-admin/appstream']);
    expect(packed.map((p) => p.label)).toEqual(['tree (app-utils/tree)', 'app-admin/appstream']);
    expect(packed.every((p) => p.archive.subarray(0, 2).equals(Buffer.from([0x1f, 0x8b])))).toBe(true);
  });

  it.each([
    ['nope', 1, 'aoinb: package "nope": no package named nope in the tree'],
    ['../etc', 2, 'aoinb: package "../etc": "../etc" leaves the tree'],
    ['/etc/passwd', 2, 'aoinb: package "/etc/passwd": "/etc/passwd" is an absolute path'],
  ])('refuses %j before contacting the farm', async (ref, exitCode, message) => {
    // The URL points at a closed port: a name error must come first, and no task is created.
    const r = await execa(
      process.execPath,
      [bin, 'submit', '--tree', tree, 'tree', ref, '--branch', 'stable', '--url', 'http://127.0.0.1:9'],
      { reject: false },
    );
    expect(r.exitCode).toBe(exitCode);
    expect(r.stderr).toContain(message);
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
  });
});
