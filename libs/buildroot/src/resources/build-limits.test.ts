import { describe, expect, it } from 'vitest';
import { buildLimitsFor, describeBytes, pidsPerCore, raiseBounds } from './build-limits.ts';

const mib = 1024 * 1024;
const gib = 1024 * mib;
const defaults = { memoryLimitMib: 8192, pidsLimit: 4096, diskLimitMib: 32768 };

describe('buildLimitsFor: the config defaults raised by ENVREQ', () => {
  it('without ENVREQ is the config, in bytes and processes', () => {
    const expected = { memoryBytes: 8 * gib, pids: 4096, diskBytes: 32 * gib };
    expect(buildLimitsFor(defaults)).toEqual(expected);
    expect(buildLimitsFor(defaults, {})).toEqual(expected);
  });

  it('raises memory to total_mem, or total_mem_per_core x core, whichever is more', () => {
    expect(buildLimitsFor(defaults, { totalMemGiB: 32 }).memoryBytes).toBe(32 * gib);
    expect(buildLimitsFor(defaults, { totalMemPerCoreGiB: 2, core: 24 }).memoryBytes).toBe(48 * gib);
    expect(buildLimitsFor(defaults, { totalMemGiB: 16, totalMemPerCoreGiB: 4, core: 8 }).memoryBytes).toBe(32 * gib);
    expect(buildLimitsFor(defaults, { totalMemGiB: 64, totalMemPerCoreGiB: 1, core: 8 }).memoryBytes).toBe(64 * gib);
    // Per core without a core count counts one core; a fraction of a GiB rounds up to a byte.
    expect(buildLimitsFor(defaults, { totalMemPerCoreGiB: 12 }).memoryBytes).toBe(12 * gib);
    expect(buildLimitsFor(defaults, { totalMemGiB: 9.5 }).memoryBytes).toBe(9.5 * gib);
  });

  it('raises processes with the declared cores, and disk to disk GB (10^9 bytes)', () => {
    expect(buildLimitsFor(defaults, { core: 64 }).pids).toBe(64 * pidsPerCore);
    expect(buildLimitsFor(defaults, { core: 4 }).pids).toBe(4096);
    expect(buildLimitsFor(defaults, { diskGB: 100 }).diskBytes).toBe(100e9);
    expect(buildLimitsFor(defaults, { diskGB: 1 }).diskBytes).toBe(32 * gib);
  });

  it('never lowers a limit and leaves a limit that is off (0) off', () => {
    const small = { totalMemGiB: 1, core: 1, diskGB: 1 };
    expect(buildLimitsFor(defaults, small)).toEqual(buildLimitsFor(defaults));
    const off = { memoryLimitMib: 0, pidsLimit: 0, diskLimitMib: 0 };
    expect(buildLimitsFor(off, { totalMemGiB: 64, core: 64, diskGB: 500 })).toEqual({
      memoryBytes: 0,
      pids: 0,
      diskBytes: 0,
    });
  });

  it('stops at the bounds, whatever ENVREQ asks', () => {
    const huge = { totalMemPerCoreGiB: 1024, core: 4096, diskGB: 1e12 };
    expect(buildLimitsFor(defaults, huge)).toEqual({
      memoryBytes: raiseBounds.memoryBytes,
      pids: 4096 * pidsPerCore,
      diskBytes: raiseBounds.diskBytes,
    });
    expect(buildLimitsFor(defaults, { core: 1e9 }).pids).toBe(raiseBounds.pids);
  });

  it('hostile values (NaN, negative, Infinity, not a number at all) raise nothing and never lower', () => {
    const base = buildLimitsFor(defaults);
    for (const bad of [Number.NaN, -1, -Infinity, Infinity, '64' as unknown as number]) {
      const limits = buildLimitsFor(defaults, { totalMemGiB: bad, totalMemPerCoreGiB: bad, core: bad, diskGB: bad });
      expect(limits, String(bad)).toEqual(base);
      for (const value of Object.values(limits)) expect(Number.isSafeInteger(value)).toBe(true);
    }
    // A bad core count does not undo a good per-core amount: it counts as one core.
    expect(buildLimitsFor(defaults, { totalMemPerCoreGiB: 16, core: Number.NaN }).memoryBytes).toBe(16 * gib);
  });

  it('describes bytes in MiB', () => {
    expect(describeBytes(256 * mib)).toBe('256 MiB');
  });
});
