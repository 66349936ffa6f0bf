import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseFlatKeyed, workingSetV1, workingSetV2 } from './working-set.ts';

const MiB = 1024 * 1024;
const fixture = (name: string): Promise<string> => readFile(path.join(import.meta.dirname, 'fixtures', name), 'utf8');

describe('the working set of a build, from memory.stat', () => {
  it('on cgroup v1 counts anonymous memory, not the page cache of a file written and read back', async () => {
    // Captured on this project's cgroup v1 host: a cgroup that wrote a 96 MiB file, read it back,
    // and held a 48 MiB line in `tail` (memory.usage_in_bytes said 154722304 at that moment).
    const stat = await fixture('memory-stat-v1.txt');
    expect(parseFlatKeyed(stat).get('total_cache')).toBeGreaterThan(96 * MiB);
    expect(workingSetV1(stat)).toBe(50831360);
    expect(workingSetV1(stat)).toBeGreaterThanOrEqual(48 * MiB);
    expect(workingSetV1(stat)).toBeLessThan(49 * MiB);
  });

  it('on cgroup v1 adds tmpfs and swap, and does not count huge pages twice', () => {
    const stat = 'total_rss 1000\ntotal_rss_huge 600\ntotal_shmem 20\ntotal_swap 3\ntotal_mapped_file 50000\n';
    expect(workingSetV1(`cache 99999\n${stat}total_cache 99999\n`)).toBe(1023);
  });

  it('on cgroup v2 counts anon, tmpfs, unreclaimable kernel memory; not file pages, reclaimable slab', async () => {
    // Every key of a Linux 6.x memory.stat, in its order: a build that just unpacked a 2 GiB tarball
    // (file 2.1 GiB, slab_reclaimable 192 MiB of dentries) while a link step holds 612 MiB.
    const stat = await fixture('memory-stat-v2.txt');
    const keys = parseFlatKeyed(stat);
    expect(keys.size).toBe(56);
    const current = (keys.get('anon') ?? 0) + (keys.get('file') ?? 0) + (keys.get('kernel') ?? 0);
    expect(workingSetV2(stat)).toBe(
      612 * MiB + 64 * MiB + 1245184 + 3407872 + 72960 + 16384 + 8192 + 4 * MiB, // anon shmem stacks tables ...
    );
    expect(workingSetV2(stat)).toBeLessThan(current / 4);
  });

  it('on cgroup v2 takes a memory.stat of an older kernel, without the newer keys', () => {
    expect(workingSetV2('anon 4096\nfile 1048576\nkernel_stack 16384\nslab 8192\nsock 0\nshmem 0\n')).toBe(20480);
  });

  it('ignores lines that are not `key number`', () => {
    expect([...parseFlatKeyed('anon 1\n\nbroken\nfile x\n  shmem   2  \n')]).toEqual([
      ['anon', 1],
      ['shmem', 2],
    ]);
  });
});
