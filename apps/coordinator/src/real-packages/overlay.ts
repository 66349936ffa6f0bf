import { appendFile, cp, readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { parse } from 'smol-toml';
import { loadBundle, type Dependency } from '@aoinb/bundle';
import { AoinbError } from '@aoinb/errors';

/**
 * The test overlay of `overlay.toml` (read its header): how the real-package
 * tests build packages of the ABBS snapshot on the Debian test base OS. This
 * file reads it and writes an overlaid COPY of a package's bundle; the tree
 * itself is never touched.
 */
export const overlayFile = path.join(import.meta.dirname, 'overlay.toml');

export const packageKinds = ['self', 'autotools', 'cmake', 'meson', 'split', 'noarch'] as const;
export type PackageKind = (typeof packageKinds)[number];

export interface RealPackage {
  /** `category/name` in the tree. */
  path: string;
  kind: PackageKind;
  /** Debian suite, source package, version and .orig file name the sources come from. */
  suite: string;
  source: string;
  version: string;
  orig: string;
  /** The .orig is byte-identical to upstream: the spec's CHKSUMS must verify it as they are. */
  identical: boolean;
  /**
   * A newer upstream release than the snapshot's, set as the spec's VER (a maintainer's version bump), for a
   * package whose own release is on no Debian mirror. Its .orig then cannot be identical to the spec's.
   */
  ver?: string;
  /** Of `debs`, those built as `Architecture: all` (every one when the kind is noarch). */
  archAll: string[];
  /**
   * Variables to set in one defines (keyed by its folder: `autobuild`, `02-fuse-3`), each with a reason in the toml.
   */
  set: Map<string, Map<string, string>>;
  /** Debian build tools to add to BUILDDEP (AOSC's BuildKit has them, the test base OS does not). */
  builddep: string[];
  /** The packages the build must publish (`-dbg` ones included). */
  debs: string[];
  /** Package names to apt-get install in a fresh container. */
  install: string[];
  /** A shell script run there afterwards; exit 0 means the package works. */
  check: string;
}

export interface Overlay {
  /** AOSC dependency name -> Debian names ([] drops it). */
  dependencies: Map<string, string[]>;
  packages: RealPackage[];
}

function fail(key: string, problem: string): never {
  throw new AoinbError('CONFIG_INVALID', `${overlayFile}: ${key}: ${problem}`);
}

function text(table: Record<string, unknown>, key: string, where: string): string {
  const value = table[key];
  if (typeof value !== 'string' || value === '') fail(`${where}.${key}`, 'must be a non-empty string');
  return value;
}

function words(table: Record<string, unknown>, key: string, where: string): string[] {
  const value = table[key] ?? [];
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string' && /^[a-z0-9][a-z0-9+.-]*$/.test(v)))
    fail(`${where}.${key}`, 'must be a list of package names');
  return value as string[];
}

function readSettings(table: Record<string, unknown>, where: string): Map<string, Map<string, string>> {
  const out = new Map<string, Map<string, string>>();
  const raw = table.set ?? {};
  if (typeof raw !== 'object' || raw === null) fail(`${where}.set`, 'must be a table of defines folders');
  for (const [folder, vars] of Object.entries(raw)) {
    if (!/^(autobuild|\d+-[A-Za-z0-9+._-]+)$/.test(folder))
      fail(`${where}.set.${folder}`, 'must name a defines folder');
    if (typeof vars !== 'object' || vars === null) fail(`${where}.set.${folder}`, 'must be a table of variables');
    const map = new Map<string, string>();
    for (const [key, value] of Object.entries(vars)) {
      if (!/^[A-Z_][A-Z0-9_]*$/.test(key) || typeof value !== 'string')
        fail(`${where}.set.${folder}.${key}`, 'must be VARIABLE = "value"');
      map.set(key, value);
    }
    out.set(folder, map);
  }
  return out;
}

function readPackage(raw: unknown, index: number): RealPackage {
  const where = `package[${index}]`;
  if (typeof raw !== 'object' || raw === null) fail(where, 'must be a table');
  const t = raw as Record<string, unknown>;
  const kind = text(t, 'kind', where);
  if (!(packageKinds as readonly string[]).includes(kind))
    fail(`${where}.kind`, `must be one of ${packageKinds.join(', ')}`);
  if (typeof t.identical !== 'boolean') fail(`${where}.identical`, 'must be true or false');
  const pkgPath = text(t, 'path', where);
  if (!/^[a-z0-9-]+\/[A-Za-z0-9+._-]+$/.test(pkgPath)) fail(`${where}.path`, 'must be category/name');
  const ver = t.ver === undefined ? undefined : text(t, 'ver', where);
  if (ver !== undefined && t.identical) fail(`${where}.ver`, 'a bumped version cannot have identical sources');
  const debs = words(t, 'debs', where);
  const archAll = kind === 'noarch' ? debs : words(t, 'arch_all', where);
  const stray = archAll.find((name) => !debs.includes(name));
  if (stray) fail(`${where}.arch_all`, `${stray} is not in debs`);
  return {
    path: pkgPath,
    kind: kind as PackageKind,
    suite: text(t, 'suite', where),
    source: text(t, 'source', where),
    version: text(t, 'version', where),
    orig: text(t, 'orig', where),
    identical: t.identical,
    ...(ver === undefined ? {} : { ver }),
    archAll,
    set: readSettings(t, where),
    builddep: words(t, 'builddep', where),
    debs,
    install: words(t, 'install', where),
    check: text(t, 'check', where),
  };
}

export async function loadOverlay(file = overlayFile): Promise<Overlay> {
  const doc = parse(await readFile(file, 'utf8')) as Record<string, unknown>;
  const deps = (doc.dependencies ?? {}) as Record<string, unknown>;
  const dependencies = new Map<string, string[]>();
  for (const [name, value] of Object.entries(deps)) {
    if (typeof value !== 'string') fail(`dependencies.${name}`, 'must be a string of Debian names');
    dependencies.set(name, value.split(/\s+/).filter(Boolean));
  }
  const packages = ((doc.package ?? []) as unknown[]).map(readPackage);
  return { dependencies, packages };
}

/** Debian names for one AOSC dependency list: mapped names lose AOSC's version constraint, others stay as written. */
export function mapDependencies(deps: Dependency[], map: Map<string, string[]>): string[] {
  const out: string[] = [];
  for (const dep of deps) {
    for (const name of map.get(dep.name) ?? [dep.raw]) if (!out.includes(name)) out.push(name);
  }
  return out;
}

export interface OverlaySource {
  /** The loopback URL the .orig is served at. */
  url: string;
  sha256: string;
}

const marker = '# --- aoinb TEST OVERLAY (apps/coordinator/src/real-packages/overlay.toml), not part of the package:';

/** `KEY="value"`, with the value's characters safe inside bash double quotes. */
function assignment(key: string, value: string): string {
  if (/["$`\\\n]/.test(value))
    throw new AoinbError('INTERNAL', `overlay value for ${key} holds shell metacharacters: ${value}`);
  return `${key}="${value}"`;
}

/** The defines files of a bundle copy (`autobuild/defines` or `NN-name/defines`). */
async function definesFiles(dir: string): Promise<string[]> {
  const names = (await readdir(dir)).filter((n) => /^\d+-/.test(n)).sort();
  return names.length ? names.map((n) => path.join(n, 'defines')) : ['autobuild/defines'];
}

/**
 * Copies `category/name` from the tree to `destDir` and applies the overlay:
 * VER (when bumped), SRCS (and CHKSUMS unless identical) appended to spec, BUILDDEP and PKGDEP of
 * every defines rewritten with Debian names. Returns `destDir`.
 */
export async function writeOverlaidBundle(options: {
  treeDir: string;
  pkg: RealPackage;
  overlay: Overlay;
  source: OverlaySource;
  arch: string;
  destDir: string;
}): Promise<string> {
  const { pkg, destDir } = options;
  await cp(path.join(options.treeDir, pkg.path), destDir, { recursive: true });
  const original = await loadBundle(destDir, options.arch);
  const specSums = original.sources.map((s) => s.checksum?.hex);
  if (original.sources.length !== 1)
    throw new AoinbError(
      'CONFIG_INVALID',
      `${pkg.path}: the overlay handles one source, the spec has ${original.sources.length}`,
    );
  if (pkg.identical && specSums[0] !== options.source.sha256) {
    throw new AoinbError(
      'CHECKSUM_MISMATCH',
      `${pkg.path}: overlay.toml says Debian's ${pkg.orig} is identical to upstream, ` +
        `but its sha256 ${options.source.sha256} is not the spec's ${specSums[0] ?? 'SKIP'}`,
    );
  }
  const specLines = [marker];
  if (pkg.ver)
    specLines.push(`# A version bump: the snapshot's release is on no Debian mirror.`, assignment('VER', pkg.ver));
  specLines.push(assignment('SRCS', `tbl::${options.source.url}`));
  if (!pkg.identical)
    specLines.push(
      `# Debian's .orig is not byte-identical to upstream: its own checksum.`,
      assignment('CHKSUMS', `sha256::${options.source.sha256}`),
    );
  await appendFile(path.join(destDir, 'spec'), `\n${specLines.join('\n')}\n`);
  const files = await definesFiles(destDir);
  const unknown = [...pkg.set.keys()].find((folder) => !files.includes(path.join(folder, 'defines')));
  if (unknown)
    throw new AoinbError(
      'CONFIG_INVALID',
      `${pkg.path}: overlay.toml sets variables in ${unknown}/defines, which the bundle lacks`,
    );
  for (const [i, bundlePkg] of original.packages.entries()) {
    const vars = [...bundlePkg.defines.vars.names()];
    const archOverride = vars.find((v) => /^(PKGDEP|BUILDDEP)__/.test(v));
    if (archOverride)
      throw new AoinbError(
        'CONFIG_INVALID',
        `${pkg.path}/${files[i]}: the overlay does not rewrite arch overrides such as ${archOverride}`,
      );
    const deps = bundlePkg.defines.deps;
    const lines = [marker, assignment('PKGDEP', mapDependencies(deps.PKGDEP, options.overlay.dependencies).join(' '))];
    lines.push(
      assignment(
        'BUILDDEP',
        [...mapDependencies(deps.BUILDDEP, options.overlay.dependencies), ...pkg.builddep].join(' '),
      ),
    );
    const folder = path.dirname(files[i] as string);
    for (const [key, value] of pkg.set.get(folder) ?? []) lines.push(assignment(key, value));
    await appendFile(path.join(destDir, files[i] as string), `\n${lines.join('\n')}\n`);
  }
  return destDir;
}
