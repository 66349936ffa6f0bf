import { mkdir, mkdtemp, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { acquireLock } from '../host/file-lock.ts';
import { parseSimulation } from '../pipeline/install-deps.ts';
import { workLayout, type WorkLayout } from '../work-layout.ts';
import { depLayerKey, discardDepLayers, evictDepLayers, leaseDepLayer, listDepLayers } from './dep-layers.ts';

let dir: string;
let layout: WorkLayout;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'aoinb-deplayers-'));
  layout = workLayout(dir);
});
afterEach(async () => rm(dir, { recursive: true, force: true }));

const mib = 2 ** 20;

/** A layer as leaseDepLayer leaves it, with a given size and last use. */
async function fakeLayer(key: string, bytes: number, lastUsed: number, branch = 'stable', generation = 'g1') {
  const layerDir = path.join(layout.depLayersDir, key);
  await mkdir(path.join(layerDir, 'layer'), { recursive: true });
  const meta = { key, branch, generation, arch: 'amd64', packages: [], bytes, createdAt: new Date().toISOString() };
  await writeFile(path.join(layerDir, 'meta.json'), JSON.stringify(meta));
  await utimes(path.join(layerDir, 'meta.json'), lastUsed / 1000, lastUsed / 1000);
}

describe('dependency layers', () => {
  it('are keyed by generation, arch and the exact package set, in any order', () => {
    const bc = { name: 'bc', version: '1.07.1-4', arch: 'amd64' };
    const ed = { name: 'ed', version: '1.21-1', arch: 'amd64' };
    expect(depLayerKey('g1', 'amd64', [bc, ed])).toBe(depLayerKey('g1', 'amd64', [ed, bc]));
    expect(depLayerKey('g2', 'amd64', [bc, ed])).not.toBe(depLayerKey('g1', 'amd64', [bc, ed]));
    expect(depLayerKey('g1', 'arm64', [bc, ed])).not.toBe(depLayerKey('g1', 'amd64', [bc, ed]));
    expect(depLayerKey('g1', 'amd64', [{ ...bc, version: '1.07.1-5' }, ed])).not.toBe(
      depLayerKey('g1', 'amd64', [bc, ed]),
    );
  });

  it("read apt's simulation: new installs and upgrades, with versions and arch", () => {
    const text = [
      'NOTE: This is only a simulation!',
      'Inst libreadline8t64 (8.2-6 Debian:13.2/stable [amd64])',
      'Inst libc6 [2.41-11] (2.41-12 Debian:13.2/stable [amd64]) []',
      'Inst bc (1.07.1-4+b1 Debian:13.2/stable [amd64])',
      'Conf bc (1.07.1-4+b1 Debian:13.2/stable [amd64])',
    ].join('\n');
    expect(parseSimulation(text)).toEqual([
      { name: 'libreadline8t64', version: '8.2-6', arch: 'amd64' },
      { name: 'libc6', version: '2.41-12', arch: 'amd64' },
      { name: 'bc', version: '1.07.1-4+b1', arch: 'amd64' },
    ]);
  });

  it('evict the least recently used first, never one a build holds, until the rest fit', async () => {
    const now = Date.now();
    await fakeLayer('old', 10 * mib, now - 3000);
    await fakeLayer('held', 10 * mib, now - 2000);
    await fakeLayer('recent', 10 * mib, now - 1000);
    const held = await acquireLock(layout.lock('dep-layer-held'), 'shared');
    try {
      expect(await evictDepLayers(layout, 10 * mib)).toEqual(['old', 'recent']);
    } finally {
      await held.release();
    }
    expect((await listDepLayers(layout)).map((l) => l.key)).toEqual(['held']);
  });

  it('are dropped for an instance whose generation moved on, other branches kept', async () => {
    await fakeLayer('a', mib, Date.now(), 'stable', 'g1');
    await fakeLayer('b', mib, Date.now(), 'stable', 'g2');
    await fakeLayer('c', mib, Date.now(), 'testing', 'g1');
    expect(await discardDepLayers(layout, (m) => m.branch === 'stable' && m.generation !== 'g2')).toEqual(['a']);
    expect((await listDepLayers(layout)).map((l) => l.key).sort()).toEqual(['b', 'c']);
  });

  it('are built once for concurrent builds of one key, and a failed build leaves nothing', async () => {
    let builds = 0;
    const meta = { key: 'k1', branch: 'stable', generation: 'g1', arch: 'amd64', packages: ['bc=1'] };
    const builder = async (dirs: { upper: string }) => {
      builds += 1;
      await new Promise((resolve) => setTimeout(resolve, 200));
      await writeFile(path.join(dirs.upper, 'installed'), 'yes');
      return { ok: true as const };
    };
    const results = await Promise.all([1, 2, 3].map(() => leaseDepLayer(layout, meta, builder)));
    expect(builds).toBe(1);
    expect(results.map((r) => ('lease' in r && r.lease ? r.lease.built : undefined)).sort()).toEqual([
      false,
      false,
      true,
    ]);
    for (const r of results) if ('lease' in r) await r.lease?.release();
    expect(await readdir(path.join(layout.depLayersDir, 'k1', 'layer'))).toEqual(['installed']);

    const failed = await leaseDepLayer(layout, { ...meta, key: 'k2' }, async () => ({
      ok: false as const,
      reason: 'apt failed',
      cancelled: false,
    }));
    expect(failed).toEqual({ failure: { ok: false, reason: 'apt failed', cancelled: false } });
    expect((await readdir(layout.depLayersDir)).filter((n) => n !== 'k1')).toEqual([]);
  });
});
