import { AoinbError } from '@aoinb/errors';
import { getForArch, resolveArchName } from './arch-override.ts';
import { parseDependencyList, type Dependency } from './dependency.ts';
import { compilePattern, PatternError } from './extglob.ts';
import { parseEnvReq, type EnvReq } from './envreq.ts';
import { parseShellAssignments, type ShellVariables } from './shell-assignments.ts';

export const DEPENDENCY_KEYS = [
  'PKGDEP',
  'BUILDDEP',
  'PKGRECOM',
  'PKGBREAK',
  'PKGCONFL',
  'PKGREP',
  'PKGPROV',
  'PKGSUG',
] as const;
export type DependencyKey = (typeof DEPENDENCY_KEYS)[number];

/** What one `defines` file says, with `__ARCH` overrides resolved for one architecture. */
export interface Defines {
  /** The file name used in messages, relative to the bundle. */
  file: string;
  arch: string;
  /** `PKGNAME`. */
  name: string;
  /** `PKGSEC`. */
  section: string;
  /** `PKGDES`. */
  description: string;
  /** `PKGEPOCH`, when set. */
  epoch?: string;
  deps: Record<DependencyKey, Dependency[]>;
  /** `ABHOST` as the file sets it (autobuild otherwise uses the build arch). */
  abHost?: string;
  /** `ABHOST=noarch`: architecture independent. */
  noarch: boolean;
  /** `ABTYPE`: the build template (`self`, `cmakeninja`, ...); autobuild detects one when absent. */
  abType?: string;
  /** `FAIL_ARCH`: an extglob pattern of archs/groups the package must not be built for. */
  failArch?: string;
  /** `ALLOW_ARCH`: an extglob pattern of archs/groups the package may only be built for. */
  allowArch?: string;
  /** `ENVREQ`, parsed; empty when absent. */
  envreq: EnvReq;
  vars: ShellVariables;
}

export interface ParseDefinesOptions {
  file: string;
  arch: string;
  /** Variables set before the file is sourced: ARCH, PKGVER, PKGREL, PKGEPOCH. */
  seed?: Record<string, string>;
  /** Unset variables that must not expand to "" (see parseShellAssignments); default: build-time names. */
  refuse?: (name: string) => string | undefined;
}

const PKGNAME = /^[a-z0-9][a-z0-9+.-]*$/;

function requiredText(vars: ShellVariables, key: string, arch: string): string {
  const resolved = resolveArchName(vars, key, arch).name;
  const value = vars.get(resolved);
  if (value === undefined) throw new AoinbError('BUNDLE_INVALID', `${vars.file}: ${key} is required`);
  if (value.trim() === '') throw new AoinbError('BUNDLE_INVALID', `${vars.where(resolved)}: must not be empty`);
  return value;
}

function optionalText(vars: ShellVariables, key: string, arch: string): string | undefined {
  return getForArch(vars, key, arch);
}

/** FAIL_ARCH / ALLOW_ARCH, checked to be a usable pattern. */
function archPattern(vars: ShellVariables, key: string, arch: string): string | undefined {
  const resolved = resolveArchName(vars, key, arch).name;
  const value = vars.get(resolved);
  if (value === undefined) return undefined;
  if (value.length > 1024)
    throw new AoinbError('BUNDLE_INVALID', `${vars.where(resolved)}: pattern is longer than 1024 characters`);
  try {
    compilePattern(value);
  } catch (err) {
    if (err instanceof PatternError) throw new AoinbError('BUNDLE_INVALID', `${vars.where(resolved)}: ${err.message}`);
    throw err;
  }
  return value;
}

/** PKGNAME, required and a valid Debian package name. */
function packageName(vars: ShellVariables, arch: string): string {
  const name = requiredText(vars, 'PKGNAME', arch);
  if (!PKGNAME.test(name)) {
    throw new AoinbError(
      'BUNDLE_INVALID',
      `${vars.where('PKGNAME')}: ${JSON.stringify(name)} is not a valid package name (lower-case letters, ` +
        `digits, + . -)`,
    );
  }
  return name;
}

/** Every dependency list (PKGDEP, BUILDDEP, ...), its arch-specific variant when set. */
function dependencies(vars: ShellVariables, arch: string): Record<DependencyKey, Dependency[]> {
  return Object.fromEntries(
    DEPENDENCY_KEYS.map((key) => {
      const resolved = resolveArchName(vars, key, arch).name;
      return [key, parseDependencyList(vars.get(resolved) ?? '', vars.where(resolved))];
    }),
  ) as Record<DependencyKey, Dependency[]>;
}

/** PKGEPOCH: unset, empty, or a whole number. */
function epochOf(vars: ShellVariables, arch: string): string | undefined {
  const epoch = optionalText(vars, 'PKGEPOCH', arch) || undefined;
  if (epoch !== undefined && !/^\d+$/.test(epoch)) {
    throw new AoinbError('BUNDLE_INVALID', `${vars.where('PKGEPOCH')}: ${JSON.stringify(epoch)} is not a whole number`);
  }
  return epoch;
}

export function parseDefines(text: string, options: ParseDefinesOptions): Defines {
  const { arch } = options;
  const vars = parseShellAssignments(text, {
    file: options.file,
    seed: { ARCH: arch, ...options.seed },
    refuse: options.refuse,
  });
  const name = packageName(vars, arch);
  const section = requiredText(vars, 'PKGSEC', arch);
  const description = requiredText(vars, 'PKGDES', arch);
  if (vars.has('FAIL_ARCH') && vars.has('ALLOW_ARCH')) {
    throw new AoinbError(
      'BUNDLE_INVALID',
      `${vars.where('ALLOW_ARCH')}: FAIL_ARCH (line ${vars.line('FAIL_ARCH')}) and ALLOW_ARCH cannot both be set`,
    );
  }
  const deps = dependencies(vars, arch);
  const abHost = optionalText(vars, 'ABHOST', arch);
  const epoch = epochOf(vars, arch);
  const failArch = archPattern(vars, 'FAIL_ARCH', arch);
  const allowArch = archPattern(vars, 'ALLOW_ARCH', arch);
  const envName = resolveArchName(vars, 'ENVREQ', arch).name;
  const envValue = vars.get(envName);
  return {
    file: options.file,
    arch,
    name,
    section,
    description,
    epoch,
    deps,
    abHost,
    noarch: abHost === 'noarch',
    abType: optionalText(vars, 'ABTYPE', arch) || undefined,
    failArch,
    allowArch,
    envreq: envValue === undefined ? {} : parseEnvReq(envValue, vars.where(envName)),
    vars,
  };
}
