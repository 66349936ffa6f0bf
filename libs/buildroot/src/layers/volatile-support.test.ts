import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { release, tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mountsUnder, readMounts, unmountAllUnder } from '../host/mount-table.ts';
import { workLayout, type WorkLayout } from '../work-layout.ts';
import { overlayVolatileSupport } from './volatile-support.ts';
import { createBuildWorkspace, createWorkspace } from './workspace.ts';

let dir: string;
let layout: WorkLayout;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'aoinb-volatile-'));
  layout = workLayout(dir);
});
afterEach(async () => {
  await unmountAllUnder(dir);
  await rm(dir, { recursive: true, force: true });
});

const [major = 0, minor = 0] = release().split('.').map(Number);
const kernelHasVolatile = major > 5 || (major === 5 && minor >= 10);

describe('overlay volatile', () => {
  it('is probed once per kernel and remembered in host-facts', async () => {
    const found = await overlayVolatileSupport(layout);
    expect(found.volatile).toBe(kernelHasVolatile);
    const fact = JSON.parse(await readFile(path.join(layout.hostFactsDir, 'overlay-volatile.json'), 'utf8'));
    expect(fact).toMatchObject({ kernel: release(), volatile: kernelHasVolatile });
    // A remembered answer for this kernel is used as is; one for another kernel is probed again.
    await writeFile(
      path.join(layout.hostFactsDir, 'overlay-volatile.json'),
      JSON.stringify({ kernel: release(), volatile: false, reason: 'remembered' }),
    );
    expect(await overlayVolatileSupport(layout)).toMatchObject({ volatile: false, reason: 'remembered' });
    await writeFile(
      path.join(layout.hostFactsDir, 'overlay-volatile.json'),
      JSON.stringify({ kernel: '2.6.32', volatile: false }),
    );
    expect((await overlayVolatileSupport(layout)).volatile).toBe(kernelHasVolatile);
    expect(await mountsUnder(dir)).toEqual([]);
  });

  it.skipIf(!kernelHasVolatile)(
    'mounts a workspace volatile, remounts it over other lowers, and discards it',
    async () => {
      const lowerA = path.join(dir, 'lower-a');
      const lowerB = path.join(dir, 'lower-b');
      await mkdir(lowerA);
      await mkdir(lowerB);
      await writeFile(path.join(lowerA, 'a'), 'a');
      await writeFile(path.join(lowerB, 'b'), 'b');
      const workspace = await createWorkspace(layout, 'vol-1', [lowerA], { volatile: true });
      const options = async () =>
        (await readFile('/proc/self/mountinfo', 'utf8')).split('\n').find((l) => l.includes(workspace.merged)) ?? '';
      expect(await options()).toMatch(/\bvolatile\b/);
      await writeFile(path.join(workspace.merged, 'mine'), 'kept');
      // The kernel refuses a volatile workdir that was used before; remount clears it.
      await workspace.remount([lowerB, lowerA]);
      expect(await readFile(path.join(workspace.merged, 'b'), 'utf8')).toBe('b');
      expect(await readFile(path.join(workspace.merged, 'mine'), 'utf8')).toBe('kept');
      await workspace.discard();
      expect((await readMounts()).some((m) => m.target.startsWith(dir))).toBe(false);
    },
  );

  it('where the kernel lacks it, a build workspace is mounted without it, says why, works and discards', async () => {
    // The seam is the host fact itself: a kernel without `volatile` is one whose probe answered no.
    await mkdir(layout.hostFactsDir, { recursive: true });
    const forced = { kernel: release(), volatile: false, reason: 'mount: unknown parameter volatile (forced)' };
    await writeFile(path.join(layout.hostFactsDir, 'overlay-volatile.json'), JSON.stringify(forced));
    const lower = path.join(dir, 'lower');
    const other = path.join(dir, 'other');
    await mkdir(lower);
    await mkdir(other);
    await writeFile(path.join(lower, 'base'), 'base');
    await writeFile(path.join(other, 'dep'), 'dep');
    const lines: string[] = [];
    const workspace = await createBuildWorkspace(layout, 'novol-1', [lower], (l) => lines.push(l));
    expect(lines).toEqual([
      '[aoinb] workspace mounted without overlay volatile: mount: unknown parameter volatile (forced)',
    ]);
    expect(workspace.volatile).toBe(false);
    const mountLine = (await readFile('/proc/self/mountinfo', 'utf8'))
      .split('\n')
      .find((l) => l.includes(workspace.merged));
    // The super block's options, after `- overlay overlay` (the test's folder name has the word in it too).
    expect(mountLine?.split(' - overlay overlay ')[1]).toMatch(/^rw,lowerdir=/);
    expect(mountLine?.split(' - overlay overlay ')[1]).not.toMatch(/(^|,)volatile(,|$)/);
    await writeFile(path.join(workspace.merged, 'mine'), 'written');
    expect(await readFile(path.join(workspace.upper, 'mine'), 'utf8')).toBe('written');
    // The dependency step's remount works the same without volatile.
    await workspace.remount([other, lower]);
    expect(await readFile(path.join(workspace.merged, 'dep'), 'utf8')).toBe('dep');
    expect(await readFile(path.join(workspace.merged, 'mine'), 'utf8')).toBe('written');
    await workspace.discard();
    expect(await mountsUnder(dir)).toEqual([]);
    expect(await readdir(layout.workspacesDir)).toEqual([]);
    expect(await readFile(path.join(lower, 'base'), 'utf8')).toBe('base');
  });
});
