import { AoinbError } from '@aoinb/errors';

/**
 * One entry of a dependency list (`PKGDEP="foo bar>=1.2 baz_"`), following
 * autobuild4's pm/dpkg.sh (dpkgfield): `>=`, `<=` and `==` mark a versioned
 * entry, a trailing `_` means "no version", a trailing `_spiral` marks a
 * Spiral provide (autobuild adds the version), and `@...@` entries are
 * markers autobuild fills in itself (they are skipped here).
 */
export type VersionOp = '>=' | '<=' | '==';

export interface Dependency {
  name: string;
  constraint?: { op: VersionOp; version: string };
  /** The entry as written. */
  raw: string;
}

const NAME = /^[a-z0-9][a-z0-9+.-]*(?::[a-z0-9-]+)?$/;
const VERSION = /^[0-9A-Za-z.+~:_-]+$/;

/** Parses a whitespace-separated list. `where` prefixes messages (`autobuild/defines:3: PKGDEP`). */
export function parseDependencyList(value: string, where: string): Dependency[] {
  const out: Dependency[] = [];
  for (const raw of value.split(/\s+/).filter((s) => s !== '')) {
    if (/^@[A-Za-z0-9_]+@$/.test(raw)) continue;
    out.push(parseDependency(raw, where));
  }
  return out;
}

export function parseDependency(raw: string, where: string): Dependency {
  const m = /^(.*?)(>=|<=|==)(.*)$/.exec(raw);
  // `name_spiral`: a Spiral provide autobuild versions itself; `name_`: no version.
  const name = (m ? (m[1] as string) : raw).replace(/_spiral$/, '').replace(/_$/, '');
  if (!NAME.test(name)) {
    const hint = !m && /[<>=]/.test(raw) ? ' (versions are written name>=1.2, name<=1.2 or name==1.2)' : '';
    throw new AoinbError('BUNDLE_INVALID', `${where}: ${JSON.stringify(raw)} is not a valid package name${hint}`);
  }
  if (!m) return { name, raw };
  const version = m[3] as string;
  if (!VERSION.test(version))
    throw new AoinbError(
      'BUNDLE_INVALID',
      `${where}: ${JSON.stringify(raw)} has an invalid version ${JSON.stringify(version)}`,
    );
  return { name, constraint: { op: m[2] as VersionOp, version }, raw };
}
