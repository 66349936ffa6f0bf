import { AoinbError } from '@aoinb/errors';

/**
 * One entry of `SRCS`: `[type::[opt=val;opt=val::]]url`, with its `CHKSUMS`
 * entry. Mirrors acbs (acbs/parser.py, parse_url_schema and
 * parse_fetch_options): options are separated by `;`, `tbl` means a tarball,
 * an entry without a type is a git repository when it ends in `.git` or starts
 * with `git://` and a tarball otherwise, and `pypi::version=V::name` names a
 * PyPI project whose sdist is looked up at fetch time.
 */
export type SourceType = 'tbl' | 'git' | 'hg' | 'svn' | 'bzr' | 'fossil' | 'file' | 'pypi';

export const SOURCE_TYPES: readonly SourceType[] = ['tbl', 'git', 'hg', 'svn', 'bzr', 'fossil', 'file', 'pypi'];

export interface SourceOptions {
  /** `commit=`: a commit, tag (`tags/v1.0`) or other revision to check out. */
  commit?: string;
  /** `branch=`: the branch to fetch. */
  branch?: string;
  /** `rename=`: the name the fetched source gets in the build directory. */
  rename?: string;
  /** `submodule=`: `false`, `true` (one level) or `recursive` (acbs's default). */
  submodule?: 'false' | 'true' | 'recursive';
  /** `copy-repo=true`: copy the VCS metadata into the build directory. */
  copyRepo?: boolean;
  /** `use-url-name=true`: name the file after the URL's last path segment. */
  useUrlName?: boolean;
  /** `version=`: the release to fetch (pypi; acbs also takes it from `commit=`). */
  version?: string;
}

export interface Checksum {
  algo: string;
  hex: string;
}

export interface Source {
  type: SourceType;
  /** The URL; for `pypi`, the project name. */
  url: string;
  options: SourceOptions;
  /** null for `SKIP`. */
  checksum: Checksum | null;
  /** The entry as written (after variable expansion). */
  raw: string;
}

/** hashlib digest sizes (hex characters) for the algorithms acbs accepts. */
const DIGEST_HEX: Record<string, number> = {
  md5: 32,
  sha1: 40,
  sha224: 56,
  sha256: 64,
  sha384: 96,
  sha512: 128,
  blake2b: 128,
  blake2s: 64,
  'sha3-256': 64,
  'sha3-512': 128,
};

const TYPE_ALIASES: Record<string, SourceType> = { tarball: 'tbl' };

function invalid(where: string, message: string): AoinbError {
  return new AoinbError('BUNDLE_INVALID', `${where}: ${message}`);
}

export function parseChecksum(entry: string, where: string): Checksum | null {
  if (entry === 'SKIP') return null;
  const sep = entry.indexOf('::');
  if (sep < 0) throw invalid(where, `malformed checksum ${JSON.stringify(entry)}: expected algo::hex or SKIP`);
  const algo = entry.slice(0, sep).toLowerCase();
  const hex = entry.slice(sep + 2).toLowerCase();
  const size = DIGEST_HEX[algo];
  if (size === undefined)
    throw invalid(
      where,
      `unknown checksum algorithm ${JSON.stringify(algo)} (known: ${Object.keys(DIGEST_HEX).join(', ')})`,
    );
  if (!/^[0-9a-f]+$/.test(hex) || hex.length !== size) {
    throw invalid(where, `${algo} checksum must be ${size} hex digits, got ${JSON.stringify(entry.slice(sep + 2))}`);
  }
  return { algo, hex };
}

function parseOptions(text: string, where: string): SourceOptions {
  const options: SourceOptions = {};
  for (const item of text.split(';')) {
    const eq = item.indexOf('=');
    if (eq < 0) throw invalid(where, `malformed source option ${JSON.stringify(item)}: expected key=value`);
    const key = item.slice(0, eq).trim();
    const value = item.slice(eq + 1).trim();
    if (key === 'commit') options.commit = value;
    else if (key === 'branch') options.branch = value;
    else if (key === 'rename') options.rename = value;
    else if (key === 'version') options.version = value;
    else if (key === 'copy-repo') options.copyRepo = parseBool(value, key, where);
    else if (key === 'use-url-name') options.useUrlName = parseBool(value, key, where);
    else if (key === 'submodule') {
      if (value !== 'true' && value !== 'false' && value !== 'recursive') {
        throw invalid(where, `invalid submodule option ${JSON.stringify(value)}: expected true, false or recursive`);
      }
      options.submodule = value;
    } else {
      throw invalid(
        where,
        `unknown source option ${JSON.stringify(key)} (known: commit, branch, rename, submodule, copy-repo, ` +
          `use-url-name, version)`,
      );
    }
  }
  if (options.rename !== undefined && options.useUrlName)
    throw invalid(where, 'use-url-name cannot be combined with rename');
  return options;
}

function parseBool(value: string, key: string, where: string): boolean {
  if (value !== 'true' && value !== 'false')
    throw invalid(where, `${key} must be true or false, got ${JSON.stringify(value)}`);
  return value === 'true';
}

function resolveType(raw: string, where: string): SourceType {
  const lower = raw.toLowerCase();
  const type = TYPE_ALIASES[lower] ?? lower;
  if (!(SOURCE_TYPES as readonly string[]).includes(type)) {
    throw new AoinbError(
      'SOURCE_UNSUPPORTED',
      `${where}: unsupported source type ${JSON.stringify(raw)} (supported: ${SOURCE_TYPES.join(', ')})`,
    );
  }
  return type as SourceType;
}

/**
 * Parses one SRCS entry with its CHKSUMS entry. `where` prefixes messages
 * (`spec:3: SRCS`), `checksumWhere` those about the checksum (`spec:4: CHKSUMS`).
 */
export function parseSource(entry: string, checksum: string, where: string, checksumWhere = where): Source {
  const parts = entry.split('::');
  let type: SourceType;
  let options: SourceOptions = {};
  let url: string;
  if (parts.length === 1) {
    url = entry;
    type = url.endsWith('.git') || url.startsWith('git://') ? 'git' : 'tbl';
  } else {
    type = resolveType(parts[0] as string, where);
    if (parts.length >= 3) options = parseOptions(parts[1] as string, where);
    url = parts.slice(parts.length >= 3 ? 2 : 1).join('::');
  }
  if (url === '') throw invalid(where, `source ${JSON.stringify(entry)} has no URL`);
  if (type === 'pypi' && options.version === undefined && options.commit === undefined) {
    throw invalid(where, `pypi source ${JSON.stringify(entry)} needs version= (pypi::version=$VER::name)`);
  }
  if (type !== 'pypi' && !/^[A-Za-z][A-Za-z0-9+.-]*:/.test(url))
    throw invalid(where, `source URL ${JSON.stringify(url)} has no scheme`);
  return { type, url, options, checksum: sourceChecksum(type, checksum, checksumWhere), raw: entry };
}

const VCS_TYPES: readonly SourceType[] = ['git', 'hg', 'svn', 'bzr', 'fossil'];

/**
 * acbs never checks a checksum of a VCS source, so `sha256::SKIP` (and an
 * empty CHKSUMS, `''` here) means SKIP there; a tarball still needs a real one.
 */
function sourceChecksum(type: SourceType, checksum: string, where: string): Checksum | null {
  const skip = checksum === '' || /^[A-Za-z0-9-]+::SKIP$/.test(checksum);
  if (!skip || !VCS_TYPES.includes(type)) {
    if (checksum === '')
      throw invalid(where, `CHKSUMS is empty, but a ${type} source needs a checksum (SKIP is only for VCS sources)`);
    return parseChecksum(checksum, where);
  }
  return null;
}

/** Splits SRCS and CHKSUMS into entries and pairs them; the counts must agree. */
export function parseSourceList(srcs: string, chksums: string, where: { srcs: string; chksums: string }): Source[] {
  const entries = srcs.split(/\s+/).filter((s) => s !== '');
  // An empty CHKSUMS gives every source no checksum, as acbs does (accepted for VCS sources only).
  const given = chksums.split(/\s+/).filter((s) => s !== '');
  const sums = given.length === 0 ? entries.map(() => '') : given;
  if (entries.length !== sums.length) {
    throw invalid(
      where.chksums,
      `CHKSUMS has ${sums.length} entr${sums.length === 1 ? 'y' : 'ies'} but SRCS (${where.srcs}) ` +
        `has ${entries.length}; give one checksum (or SKIP) per source`,
    );
  }
  return entries.map((entry, i) =>
    parseSource(entry, sums[i] as string, `${where.srcs} (source ${i + 1})`, `${where.chksums} (checksum ${i + 1})`),
  );
}
