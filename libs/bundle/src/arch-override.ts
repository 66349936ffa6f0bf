import { AoinbError } from '@aoinb/errors';
import { archGroupsOf } from './arch-groups.ts';
import type { ShellVariables } from './shell-assignments.ts';

/** Which assignment supplies a variable's value for one architecture. */
export interface ResolvedName {
  /** The variable actually read: `NAME__AMD64`, `NAME__RETRO` or `NAME`. */
  name: string;
  /** How it was chosen. */
  via: 'arch' | 'group' | 'base';
}

/**
 * autobuild4's precedence for `defines` (native/abnativefunctions.cpp,
 * arch_loadvar_inner, and native/bashinterface.cpp,
 * autobuild_get_variable_with_suffix): `NAME__<ARCH>` wins outright; otherwise
 * `NAME__<GROUP>` for the groups the arch belongs to, and two such group
 * overrides at once is an error; otherwise `NAME`. An override that is set to
 * the empty string still wins. autobuild4 applies this to the variables in
 * `sets/exports.json`; the farm applies it to every variable it reads.
 */
export function resolveArchName(vars: ShellVariables, name: string, arch: string): ResolvedName {
  const exact = `${name}__${arch.toUpperCase()}`;
  if (vars.has(exact)) return { name: exact, via: 'arch' };
  const groups = archGroupsOf(arch)
    .map((g) => `${name}__${g.toUpperCase()}`)
    .filter((n) => vars.has(n));
  if (groups.length > 1) {
    throw new AoinbError(
      'BUNDLE_INVALID',
      `${vars.where(groups[1] as string)}: ambiguous architecture group override: ${groups.join(' and ')} both ` +
        `apply to ${arch}; add ${exact} to choose`,
    );
  }
  if (groups.length === 1) return { name: groups[0] as string, via: 'group' };
  return { name, via: 'base' };
}

/** The value of `name` for `arch` following autobuild4's override precedence. */
export function getForArch(vars: ShellVariables, name: string, arch: string): string | undefined {
  return vars.get(resolveArchName(vars, name, arch).name);
}

/**
 * acbs's precedence for `spec` (acbs/parser.py, parse_package_url): only the
 * exact `NAME__<ARCH>` override is considered, and an empty one falls back to
 * `NAME` (Python `or`). Arch groups do not apply to `spec`.
 */
export function resolveSpecName(vars: ShellVariables, name: string, arch: string): string {
  const exact = `${name}__${arch.toUpperCase()}`;
  return vars.has(exact) && vars.get(exact) !== '' ? exact : name;
}
