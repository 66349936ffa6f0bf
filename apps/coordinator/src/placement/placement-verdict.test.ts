import { describe, expect, it } from 'vitest';
import { liveBuildersOf, type BuilderStatus, type LiveBuilder } from '@aoinb/farm-protocol';
import { learnedFrom, learnedNeeds } from './learned-requirements.ts';
import { placementVerdict } from './placement-verdict.ts';
import { needsOfEnvReq } from './build-needs.ts';

const GiB = 1024 ** 3;
const builder = (id: string, cores: number, memGiB: number, freeSlots = 1, diskGB = 100): LiveBuilder => ({
  id,
  capacity: { cores, memoryBytes: memGiB * GiB, diskFreeBytes: diskGB * 1e9 },
  freeSlots,
});

describe('placementVerdict', () => {
  it('says exactly why no live builder can take a build', () => {
    const small = [builder('a', 4, 8), builder('b', 8, 4)];
    expect(placementVerdict({ memoryBytes: 16 * GiB }, 'amd64', small)).toEqual({
      kind: 'unplaceable',
      label: 'memory',
      reason: 'waiting: needs 16 GiB, largest amd64 builder has 8 GiB',
    });
    expect(placementVerdict({ cores: 32, diskBytes: 500e9 }, 'arm64', small)).toEqual({
      kind: 'unplaceable',
      label: 'cores',
      reason: [
        'waiting: needs 32 cores, largest arm64 builder has 8',
        'needs 500 GB free disk, most free disk among arm64 builders is 100 GB',
      ].join('; '),
    });
    expect(placementVerdict({ memoryPerCoreBytes: 4 * GiB }, 'amd64', small)).toMatchObject({
      reason: 'waiting: needs 4 GiB per core, best amd64 builder has 2 GiB per core',
    });
    // Each need is met by some builder, never all by one.
    expect(placementVerdict({ cores: 8, memoryBytes: 8 * GiB }, 'amd64', small)).toEqual({
      kind: 'unplaceable',
      label: 'combination',
      reason: 'waiting: needs 8 cores, 8 GiB; no amd64 builder has all of it (2 online)',
    });
    expect(placementVerdict(undefined, 'riscv64', [])).toEqual({
      kind: 'unplaceable',
      label: 'no_builder',
      reason: 'waiting: no riscv64 builder is online',
    });
  });

  it('treats a build network as one more need: no builder allows one, or not with the rest', () => {
    const net = (b: LiveBuilder): LiveBuilder => ({ ...b, capacity: { ...b.capacity, networkBuilds: true } });
    const offline = [builder('a', 4, 8), builder('b', 8, 4)];
    expect(placementVerdict({ network: true }, 'amd64', offline)).toEqual({
      kind: 'unplaceable',
      label: 'network',
      reason: 'waiting: no amd64 builder allows network builds',
    });
    expect(placementVerdict({ network: true, memoryBytes: 16 * GiB }, 'amd64', offline)).toEqual({
      kind: 'unplaceable',
      label: 'memory',
      reason: 'waiting: needs 16 GiB, largest amd64 builder has 8 GiB; no amd64 builder allows network builds',
    });
    // The builder that allows it is too small, the big one allows none.
    expect(
      placementVerdict({ network: true, memoryBytes: 8 * GiB }, 'amd64', [builder('a', 4, 8), net(builder('b', 8, 4))]),
    ).toEqual({
      kind: 'unplaceable',
      label: 'combination',
      reason: 'waiting: needs 8 GiB, a build network; no amd64 builder has all of it (2 online)',
    });
    expect(placementVerdict({ network: true }, 'amd64', [builder('a', 4, 8), net(builder('b', 8, 4))])).toEqual({
      kind: 'ready',
    });
    expect(placementVerdict({ network: true }, 'amd64', [net(builder('b', 8, 4, 0)), builder('a', 4, 8)])).toEqual({
      kind: 'busy',
      reason: 'waiting: needs a build network, which 1 of 2 amd64 builders have; all of them are busy',
    });
  });

  it('is ready when an able builder has a free slot, busy when the able ones are all building', () => {
    const farm = [builder('small', 4, 8), builder('big', 16, 64, 0)];
    expect(placementVerdict({ memoryBytes: 4 * GiB }, 'amd64', farm)).toEqual({ kind: 'ready' });
    expect(placementVerdict({ memoryBytes: 32 * GiB }, 'amd64', farm)).toEqual({
      kind: 'busy',
      reason: 'waiting: needs 32 GiB, which 1 of 2 amd64 builders have; all of them are busy',
    });
    expect(placementVerdict(undefined, 'amd64', [builder('x', 1, 1, 0)])).toEqual({ kind: 'busy', reason: '' });
  });

  it('counts only active builders of the arch, with their free slots', () => {
    const facts = (id: string, mode: 'active' | 'draining', archs: string[]): BuilderStatus => ({
      id,
      state: 'idle',
      lastHeartbeat: '',
      facts: {
        id,
        hostname: id,
        archs,
        slots: 2,
        cores: 4,
        memoryTotalBytes: 8 * GiB,
        memoryFreeBytes: 0,
        diskFreeBytes: 1e9,
        load: [0, 0, 0],
        currentTasks: [{ taskId: '1', arch: 'amd64', jobId: 'j', startedAt: '' }],
        mode,
        startedAt: '',
        lastHeartbeat: '',
        version: '',
      },
    });
    const all = [facts('a', 'active', ['amd64']), facts('b', 'draining', ['amd64']), facts('c', 'active', ['arm64'])];
    expect(liveBuildersOf([...all, { id: 'gone', state: 'offline', lastHeartbeat: '' }], 'amd64')).toEqual([
      { id: 'a', capacity: { cores: 4, memoryBytes: 8 * GiB, diskFreeBytes: 1e9, networkBuilds: false }, freeSlots: 1 },
    ]);
  });
});

describe('needs from ENVREQ and learned requirements', () => {
  it('turns ENVREQ into bytes in BuildIt! units (GiB of memory, GB of disk)', () => {
    expect(needsOfEnvReq({ core: 8, totalMemGiB: 16, totalMemPerCoreGiB: 1.5, diskGB: 40 })).toEqual({
      cores: 8,
      memoryBytes: 16 * GiB,
      memoryPerCoreBytes: 1.5 * GiB,
      diskBytes: 40e9,
    });
    expect(needsOfEnvReq({})).toEqual({});
  });

  it('learns the hungriest kept build with headroom, never above the largest host it built on', () => {
    const sample = (memGiB: number, diskGB: number, cpu: number, seconds: number, hostGiB?: number) => ({
      peakMemoryBytes: memGiB * GiB,
      peakDiskBytes: diskGB * 1e9,
      cpuSeconds: cpu,
      seconds,
      ...(hostGiB ? { hostMemoryBytes: hostGiB * GiB } : {}),
      at: '',
    });
    expect(learnedFrom([])).toBeUndefined();
    const learned = learnedFrom([sample(4, 10, 100, 60, 64), sample(8, 20, 300, 90, 64), sample(6, 8, 200, 80)]);
    expect(learned).toEqual({
      memoryBytes: 10 * GiB,
      diskBytes: 25e9,
      cpuSeconds: 200,
      seconds: 80,
      builds: 3,
    });
    expect(learnedNeeds(learned)).toEqual({ memoryBytes: 10 * GiB, diskBytes: 25e9 });
    // Peaked at 14 GiB on a 16 GiB host: 1.25x would be 17.5 GiB, which no such host has.
    expect(learnedFrom([sample(14, 1, 1, 1, 16)])?.memoryBytes).toBe(16 * GiB);
    expect(learnedNeeds(learnedFrom([sample(0, 0, 1, 1)]))).toEqual({});
  });
});
