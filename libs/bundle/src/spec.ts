import { AoinbError } from '@aoinb/errors';
import { resolveSpecName } from './arch-override.ts';
import { parseEnvReq, type EnvReq } from './envreq.ts';
import { parseShellAssignments, type ShellVariables } from './shell-assignments.ts';
import { parseChecksum, parseSourceList, type Source, type SourceType } from './sources.ts';

/** What `spec` says, for one target architecture. */
export interface Spec {
  /** The file name used in messages (relative to the bundle). */
  file: string;
  arch: string;
  /** `VER`. */
  version: string;
  /** `REL`, `'0'` when absent (a dpkg revision: `1`, `0retro1`). */
  release: string;
  /** `EPOCH`, when set. */
  epoch?: string;
  /** `SUBDIR`: the folder inside the unpacked sources to build in. */
  subdir?: string;
  /** `DUMMYSRC` is true: the package has no source at all. */
  dummySrc: boolean;
  /** The sources for `arch` (`SRCS__<ARCH>` over `SRCS`, or the legacy keys). */
  sources: Source[];
  /** `ENVREQ__<ARCH>` or `ENVREQ`, parsed; empty when absent. */
  envreq: EnvReq;
  /** Every assignment in the file, for callers that need more keys. */
  vars: ShellVariables;
}

export interface ParseSpecOptions {
  arch: string;
  file?: string;
  /** Accept a spec without sources for this arch (acbs does so when FAIL_ARCH excludes the arch). */
  allowMissingSources?: boolean;
}

const TRUE_WORDS = ['1', 'y', 'yes', 'true'];
const FALSE_WORDS = ['', '0', 'n', 'no', 'false'];

/** autobuild's boolean words; anything else is an error rather than a guess. */
export function parseBoolean(vars: ShellVariables, name: string): boolean {
  const raw = vars.get(name);
  if (raw === undefined) return false;
  const v = raw.toLowerCase();
  if (TRUE_WORDS.includes(v)) return true;
  if (FALSE_WORDS.includes(v)) return false;
  throw new AoinbError(
    'BUNDLE_INVALID',
    `${vars.where(name)}: expected a boolean (1/0, yes/no, true/false), got ${JSON.stringify(raw)}`,
  );
}

function required(vars: ShellVariables, name: string, pattern: RegExp, hint: string): string {
  const v = vars.get(name);
  if (v === undefined) throw new AoinbError('BUNDLE_INVALID', `${vars.file}: ${name} is required`);
  if (!pattern.test(v))
    throw new AoinbError(
      'BUNDLE_INVALID',
      `${vars.where(name)}: ${JSON.stringify(v)} is not a valid ${name} (${hint})`,
    );
  return v;
}

function optional(vars: ShellVariables, name: string, pattern: RegExp, hint: string): string | undefined {
  const v = vars.get(name);
  if (v === undefined || v === '') return undefined;
  return required(vars, name, pattern, hint);
}

export function parseSpec(text: string, options: ParseSpecOptions): Spec {
  const file = options.file ?? 'spec';
  const vars = parseShellAssignments(text, { file });
  const version = required(vars, 'VER', /^[0-9A-Za-z][0-9A-Za-z.+~_-]*$/, 'letters, digits and . + ~ _ -');
  // acbs passes REL through as text and dpkg takes any revision of these characters (`0retro1`).
  const release = optional(vars, 'REL', /^[0-9A-Za-z.+~]+$/, 'letters, digits and . + ~, as a dpkg revision') ?? '0';
  const epoch = optional(vars, 'EPOCH', /^\d+$/, 'a whole number');
  const subdir = vars.get('SUBDIR');
  if (subdir !== undefined && (subdir.startsWith('/') || subdir.split('/').includes('..'))) {
    throw new AoinbError(
      'BUNDLE_INVALID',
      `${vars.where('SUBDIR')}: must be a relative path inside the sources, got ${JSON.stringify(subdir)}`,
    );
  }
  const dummySrc = parseBoolean(vars, 'DUMMYSRC');
  const sources = dummySrc ? [] : specSources(vars, options);
  const envName = vars.has(`ENVREQ__${options.arch.toUpperCase()}`)
    ? `ENVREQ__${options.arch.toUpperCase()}`
    : 'ENVREQ';
  const envValue = vars.get(envName);
  const envreq = envValue === undefined ? {} : parseEnvReq(envValue, vars.where(envName));
  return {
    file,
    arch: options.arch,
    version,
    release,
    epoch,
    subdir: subdir || undefined,
    dummySrc,
    sources,
    envreq,
    vars,
  };
}

function specSources(vars: ShellVariables, options: ParseSpecOptions): Source[] {
  const srcsName = resolveSpecName(vars, 'SRCS', options.arch);
  const srcs = vars.get(srcsName);
  if (srcs !== undefined) {
    const sumsName = resolveSpecName(vars, 'CHKSUMS', options.arch);
    const sums = vars.get(sumsName);
    if (sums === undefined) {
      throw new AoinbError(
        'BUNDLE_INVALID',
        `${vars.where(srcsName)}: CHKSUMS is missing; give one checksum (or SKIP for VCS sources) per source`,
      );
    }
    return parseSourceList(srcs, sums, { srcs: vars.where(srcsName), chksums: vars.where(sumsName) });
  }
  const legacy = legacySources(vars);
  if (legacy.length > 0) return legacy;
  if (options.allowMissingSources) return [];
  throw new AoinbError(
    'BUNDLE_INVALID',
    `${vars.file}: SRCS is missing (no SRCS or SRCS__${options.arch.toUpperCase()}); ` +
      `set DUMMYSRC=1 if the package has no source`,
  );
}

const LEGACY_VCS: Array<[string, SourceType]> = [
  ['GIT', 'git'],
  ['HG', 'hg'],
  ['SVN', 'svn'],
  ['BZR', 'bzr'],
];

/** The pre-SRCS keys (SRCTBL/CHKSUM, GITSRC/GITCO/GITBRCH, ...), accepted as a kindness. */
function legacySources(vars: ShellVariables): Source[] {
  const tbl = vars.get('SRCTBL');
  if (tbl) {
    const sum = vars.get('CHKSUM');
    const checksum = sum ? parseChecksum(sum, vars.where('CHKSUM')) : null;
    return [{ type: 'tbl', url: tbl, options: {}, checksum, raw: tbl }];
  }
  for (const [prefix, type] of LEGACY_VCS) {
    const url = vars.get(`${prefix}SRC`);
    if (!url) continue;
    const commit = vars.get(`${prefix}CO`) ?? vars.get(`${prefix}COMMIT`);
    const branch = vars.get(`${prefix}BRCH`) ?? vars.get(`${prefix}BRANCH`);
    const options = { ...(commit ? { commit } : {}), ...(branch ? { branch } : {}) };
    return [{ type, url, options, checksum: null, raw: url }];
  }
  return [];
}
