import { describe, expect, it } from 'vitest';
import { envReqShortfalls, mergeEnvReq, parseEnvReq } from './envreq.ts';
import { errorOf } from '../test-support/test-helpers.ts';

describe('parseEnvReq', () => {
  it('reads the keys BuildIt! knows, in its units', () => {
    expect(parseEnvReq('core=8 total_mem=16 total_mem_per_core=2 disk=50', 'spec:3: ENVREQ')).toEqual({
      core: 8,
      totalMemGiB: 16,
      totalMemPerCoreGiB: 2,
      diskGB: 50,
    });
    expect(parseEnvReq('  total_mem=1.5  ', 'x')).toEqual({ totalMemGiB: 1.5 });
    expect(parseEnvReq('', 'x')).toEqual({});
  });

  it('names every problem at once, with where it is', () => {
    expect(
      errorOf(() => parseEnvReq('core=8 mem_per_core=2 gpu=1 disk=-5 core=2 total_mem', 'autobuild/defines:9: ENVREQ')),
    ).toEqual({
      code: 'BUNDLE_INVALID',
      message:
        'autobuild/defines:9: ENVREQ: unknown key "mem_per_core" (did you mean total_mem_per_core?); ' +
        'known keys: core, total_mem, total_mem_per_core, disk; ' +
        'unknown key "gpu"; known keys: core, total_mem, total_mem_per_core, disk; ' +
        'disk must be a positive number, got "-5"; core is given twice; ' +
        'total_mem must be a positive number, got ""',
    });
    expect(errorOf(() => parseEnvReq('core=2.5', 'spec:1: ENVREQ')).message).toBe(
      'spec:1: ENVREQ: core must be a whole number of logical cores, got "2.5"',
    );
  });

  it('refuses absurd values naming the key, so no build waits forever for a host that cannot exist', () => {
    expect(
      errorOf(() =>
        parseEnvReq('core=100000 total_mem=1e30 total_mem_per_core=Infinity disk=9999999', 'spec:2: ENVREQ'),
      ),
    ).toEqual({
      code: 'BUNDLE_INVALID',
      message:
        'spec:2: ENVREQ: core must be at most 4096 (logical cores), got "100000"; ' +
        'total_mem must be at most 65536 (GiB), got "1e30"; ' +
        'total_mem_per_core must be a positive number, got "Infinity"; ' +
        'disk must be at most 1000000 (GB), got "9999999"',
    });
    expect(errorOf(() => parseEnvReq('total_mem=NaN disk=1e400', 'x')).message).toBe(
      'x: total_mem must be a positive number, got "NaN"; disk must be a positive number, got "1e400"',
    );
    expect(parseEnvReq('core=4096 total_mem=65536 disk=1000000', 'x')).toEqual({
      core: 4096,
      totalMemGiB: 65536,
      diskGB: 1e6,
    });
  });
});

describe('mergeEnvReq and envReqShortfalls', () => {
  it('keeps the largest of each requirement', () => {
    expect(mergeEnvReq({ core: 4, diskGB: 10 }, {}, { core: 8, totalMemGiB: 2 })).toEqual({
      core: 8,
      diskGB: 10,
      totalMemGiB: 2,
    });
  });

  it('lists what a host lacks', () => {
    const host = { logicalCores: 4, memoryBytes: 8 * 1024 ** 3, diskFreeBytes: 20e9 };
    expect(envReqShortfalls({ core: 4, totalMemGiB: 8, diskGB: 20 }, host)).toEqual([]);
    expect(envReqShortfalls({ core: 8, totalMemPerCoreGiB: 4, diskGB: 50 }, host)).toEqual([
      'needs 8 cores, host has 4',
      'needs 4 GiB memory per core, host has 2.0',
      'needs 50 GB free disk, host has 20.0',
    ]);
  });
});
