import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { AoinbError } from '@aoinb/errors';
import { parseDeb822Sources, parseOneLineSources, type AptSourceEntry } from './apt-sources.ts';

/** The Debian mirror this machine's apt uses, as debootstrap and a sources.list want it. */
export interface DebianMirror {
  /** e.g. `http://deb.debian.org/debian` (no trailing slash). */
  mirror: string;
  /** A plain release such as `bookworm`. */
  suite: string;
  /** Whether `<suite>-updates` is configured for the same mirror. */
  updates: boolean;
  /** `deb <mirror> <suite> main`, plus `deb <mirror> <suite>-updates main` when configured. */
  sourcesListLines: string[];
  /** The file and line the choice came from. */
  origin: string;
}

/** Debian's release names and aliases; the host's own codename is accepted as well. */
const debianSuites = new Set([
  'stable',
  'testing',
  'unstable',
  'oldstable',
  'oldoldstable',
  'sid',
  'experimental',
  'stretch',
  'buster',
  'bullseye',
  'bookworm',
  'trixie',
  'forky',
  'duke',
]);

function isWebUri(uri: string): boolean {
  return /^https?:\/\//.test(uri);
}

/** Prefers URIs that look like Debian's archive (`.../debian`) over other plain-suite repositories. */
function debianScore(uri: string): number {
  return /\/debian\/?$/.test(uri) ? 1 : 0;
}

interface Candidate {
  entry: AptSourceEntry;
  uri: string;
  suite: string;
}

function candidates(entries: AptSourceEntry[], knownSuites: Set<string>): Candidate[] {
  const found: Candidate[] = [];
  for (const entry of entries) {
    if (!entry.types.includes('deb') || !entry.components.includes('main')) continue;
    for (const uri of entry.uris.filter(isWebUri)) {
      for (const suite of entry.suites.filter((s) => knownSuites.has(s))) found.push({ entry, uri, suite });
    }
  }
  return found.sort((a, b) => debianScore(b.uri) - debianScore(a.uri));
}

function hasUpdates(entries: AptSourceEntry[], uri: string, suite: string): boolean {
  return entries.some(
    (e) =>
      e.types.includes('deb') &&
      e.components.includes('main') &&
      e.uris.includes(uri) &&
      e.suites.includes(`${suite}-updates`),
  );
}

/**
 * Picks the Debian entry among parsed apt sources: type `deb`, an http(s) URI,
 * a plain release suite (`bookworm`, `stable`, or the host's `codename`) and the
 * `main` component. Security, backports and third-party repositories never qualify.
 */
export function pickDebianMirror(
  entries: AptSourceEntry[],
  options: { codename?: string; where?: string } = {},
): DebianMirror {
  const known = new Set(debianSuites);
  if (options.codename) known.add(options.codename);
  const [best] = candidates(entries, known);
  if (!best) {
    const where = options.where ?? 'the apt sources';
    throw new AoinbError(
      'CONFIG_NOT_FOUND',
      `no Debian mirror found in ${where}: need a "deb" entry with an http(s) URI, ` +
        `a release suite such as bookworm and the main component`,
    );
  }
  const mirror = best.uri.replace(/\/+$/, '');
  const updates = hasUpdates(entries, best.uri, best.suite);
  const sourcesListLines = [`deb ${mirror} ${best.suite} main`];
  if (updates) sourcesListLines.push(`deb ${mirror} ${best.suite}-updates main`);
  return { mirror, suite: best.suite, updates, sourcesListLines, origin: best.entry.origin };
}

async function readIfExists(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/**
 * Every enabled entry apt reads: `sources.list`, then `sources.list.d/*.list`
 * and `*.sources` (other names are ignored, as apt does).
 */
export async function readAptSources(aptDir = '/etc/apt'): Promise<AptSourceEntry[]> {
  const entries: AptSourceEntry[] = [];
  const main = path.join(aptDir, 'sources.list');
  const mainText = await readIfExists(main);
  if (mainText !== undefined) entries.push(...parseOneLineSources(mainText, main));
  const partsDir = path.join(aptDir, 'sources.list.d');
  const names = ((await readdir(partsDir).catch(() => [])) as string[]).sort();
  for (const name of names) {
    if (!/^[A-Za-z0-9_.-]+\.(list|sources)$/.test(name)) continue;
    const file = path.join(partsDir, name);
    const text = await readIfExists(file);
    if (text === undefined) continue;
    entries.push(...(name.endsWith('.list') ? parseOneLineSources(text, file) : parseDeb822Sources(text, file)));
  }
  return entries;
}

/** `VERSION_CODENAME` from os-release, if there is one. */
export async function readCodename(osRelease = '/etc/os-release'): Promise<string | undefined> {
  const text = await readIfExists(osRelease);
  const match = text?.match(/^VERSION_CODENAME=["']?([A-Za-z0-9_-]+)["']?\s*$/m);
  return match?.[1];
}

/** The Debian mirror and suite this machine's apt uses. */
export async function readDebianMirror(options: { aptDir?: string; osRelease?: string } = {}): Promise<DebianMirror> {
  const aptDir = options.aptDir ?? '/etc/apt';
  const entries = await readAptSources(aptDir);
  const codename = await readCodename(options.osRelease);
  return pickDebianMirror(entries, { codename, where: `${aptDir}/sources.list and ${aptDir}/sources.list.d/` });
}
