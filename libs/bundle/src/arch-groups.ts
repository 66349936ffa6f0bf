/**
 * AOSC architecture groups, as defined by autobuild4 in `sets/arch_groups.json`
 * (AOSC-Dev/autobuild4, the revision that lists `mainline_tier1`, `armv5te`,
 * `alpha`, `ia64` and `loongarch64_nosimd`). autobuild4 builds `ABHOST_GROUP`
 * from this file (native/abnativefunctions.cpp, set_arch_variables) and acbs
 * reads the same file for FAIL_ARCH matching (acbs/utils.py, get_archgroups).
 * Update this table when autobuild4 changes it.
 */
export const ARCH_GROUPS: Readonly<Record<string, readonly string[]>> = {
  mainline: ['amd64', 'arm64', 'loongarch64', 'loongarch64_nosimd', 'loongson3', 'ppc64el', 'riscv64'],
  mainline_tier1: ['amd64', 'arm64', 'loongarch64', 'loongarch64_nosimd'],
  mainline_tier2: ['loongson3', 'ppc64el', 'riscv64'],
  arm: ['armv4', 'armv5te', 'armv6hf', 'armv7hf', 'arm64'],
  ocaml_native: ['amd64', 'arm64', 'ppc64el'],
  retro: ['alpha', 'armv4', 'armv5te', 'armv6hf', 'armv7hf', 'i486', 'ia64', 'loongson2f', 'm68k', 'powerpc', 'ppc64'],
  optenv: ['optenv32'],
  '64bit': [
    'alpha',
    'amd64',
    'arm64',
    'ia64',
    'loongarch64',
    'loongarch64_nosimd',
    'loongson3',
    'mips64r6el',
    'ppc64el',
    'riscv64',
    'loongson2f',
    'ppc64',
  ],
  '32bit': ['armv4', 'armv6hf', 'armv7hf', 'i486', 'm68k', 'powerpc'],
};

/**
 * The groups an architecture belongs to, in the order autobuild4 pushes them
 * into `ABHOST_GROUP`: nlohmann::json iterates object keys sorted, so the
 * order is alphabetical by group name.
 */
export function archGroupsOf(arch: string): string[] {
  return Object.keys(ARCH_GROUPS)
    .sort()
    .filter((group) => (ARCH_GROUPS[group] ?? []).includes(arch));
}

/**
 * Architectures autobuild4 knows (`sets/arch_targets.json`). A folder with
 * one of these names (or a group name) inside `autobuild/` holds
 * arch-specific files, not a split package.
 */
export const KNOWN_ARCHS: readonly string[] = [
  'alpha',
  'amd64',
  'arm64',
  'armv4',
  'armv5te',
  'armv6hf',
  'armv7hf',
  'i486',
  'ia64',
  'loongson2f',
  'loongson3',
  'loongarch64',
  'loongarch64_nosimd',
  'm68k',
  'mips32r6el',
  'mips64r6el',
  'optenv32',
  'powerpc',
  'ppc64',
  'ppc64el',
  'riscv64',
  'sparc64',
];
