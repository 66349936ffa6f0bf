/**
 * The memory a build needs, from its cgroup's `memory.stat`: what the kernel cannot take back
 * without killing or swapping the build. The cgroup's usage figure (`memory.usage_in_bytes`,
 * `memory.current`) and its kernel peaks also count page cache, so a build that unpacks a 2 GiB
 * tarball on a roomy host looks as if it needed 2 GiB; under a limit that cache is simply reclaimed.
 */

/** `key value` lines of a flat-keyed cgroup file (memory.stat). */
export function parseFlatKeyed(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    const [key, value] = line.trim().split(/\s+/);
    if (key && value !== undefined && /^\d+$/.test(value)) out.set(key, Number(value));
  }
  return out;
}

/**
 * cgroup v1 (hierarchical `total_*`, so the build's child cgroups count too):
 * - `total_rss`: anonymous memory and swap cache, transparent huge pages included (so
 *   `total_rss_huge`, a part of it, is not added again);
 * - `total_shmem`: tmpfs and shared memory (nspawn's /tmp, /dev/shm), page cache that cannot be
 *   dropped, only swapped;
 * - `total_swap`: anonymous memory pushed to swap is still memory the build needs (0, or absent
 *   without swap accounting: the memory+swap limit keeps builds out of swap).
 * Not `total_cache` nor `total_mapped_file`: file pages, mapped or not, are read back from disk when
 * reclaimed. Not kernel memory (`memory.kmem.*`): on v1 it is mostly dentry and inode caches.
 */
export const workingSetKeysV1 = ['total_rss', 'total_shmem', 'total_swap'] as const;

/**
 * cgroup v2 (memory.stat is hierarchical already): anonymous memory (`anon`, huge pages
 * included), tmpfs (`shmem`), compressed swap held in RAM (`zswap`), and the kernel memory that
 * goes with processes and sockets and is not reclaimable: stacks, page tables, per-cpu, vmalloc,
 * socket buffers, unreclaimable slab. Not `file`, `file_mapped` nor `slab_reclaimable` (caches),
 * nor `kernel` (it includes the reclaimable slab).
 */
export const workingSetKeysV2 = [
  'anon',
  'shmem',
  'zswap',
  'kernel_stack',
  'pagetables',
  'sec_pagetables',
  'percpu',
  'vmalloc',
  'sock',
  'slab_unreclaimable',
] as const;

function sumOf(stat: Map<string, number>, keys: readonly string[]): number {
  return keys.reduce((sum, key) => sum + (stat.get(key) ?? 0), 0);
}

/** The build's working set on cgroup v1, from its `memory.stat` text. */
export function workingSetV1(memoryStat: string): number {
  return sumOf(parseFlatKeyed(memoryStat), workingSetKeysV1);
}

/** The build's working set on cgroup v2, from its `memory.stat` text. */
export function workingSetV2(memoryStat: string): number {
  return sumOf(parseFlatKeyed(memoryStat), workingSetKeysV2);
}
