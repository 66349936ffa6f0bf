import { copyFile, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  defaultTestkitCacheDir,
  ensureAbbsSnapshot,
  fetchDebianOrig,
  readDebianMirror,
  serveFolder,
  type FileServer,
} from '@aoinb/testkit';
import { loadOverlay, writeOverlaidBundle, type Overlay, type RealPackage } from './overlay.ts';

export interface PreparedPackage {
  pkg: RealPackage;
  /** The overlaid bundle folder, ready for `aoinb submit`. */
  bundleDir: string;
  /** Where the source is served on loopback, and its sha256. */
  url: string;
  sha256: string;
}

export interface RealPackages {
  overlay: Overlay;
  packages: PreparedPackage[];
  /** The loopback server of the .orig files. */
  server: FileServer;
  close(): Promise<void>;
}

export interface PrepareOptions {
  /** Bundles are written here (one folder per package). */
  dir: string;
  arch: string;
  /** Only these tree paths (default: every package of the overlay). */
  only?: string[];
  cacheDir?: string;
}

/**
 * Builds the inputs of the real-package tests: the ABBS snapshot (unpacked once),
 * each package's Debian .orig (fetched, verified, cached), a loopback server for
 * them, and an overlaid copy of each bundle pointing at it.
 */
export async function prepareRealPackages(options: PrepareOptions): Promise<RealPackages> {
  const overlay = await loadOverlay();
  const chosen = options.only ? overlay.packages.filter((p) => options.only!.includes(p.path)) : overlay.packages;
  const cacheDir = options.cacheDir ?? defaultTestkitCacheDir;
  const [treeDir, debian] = await Promise.all([ensureAbbsSnapshot({ cacheDir }), readDebianMirror()]);
  const serveDir = await mkdtemp(path.join(tmpdir(), 'aoinb-orig-serve-'));
  const origs = [];
  for (const pkg of chosen) {
    const orig = await fetchDebianOrig(
      { suite: pkg.suite, source: pkg.source, version: pkg.version, file: pkg.orig },
      { mirror: debian.mirror, cacheDir },
    );
    // A copy, not a link: the file server refuses anything whose real path leaves its folder.
    await copyFile(orig.path, path.join(serveDir, orig.name));
    origs.push(orig);
  }
  const server = await serveFolder({ dir: serveDir });
  const close = async (): Promise<void> => {
    await server.close();
    await rm(serveDir, { recursive: true, force: true });
  };
  try {
    await mkdir(options.dir, { recursive: true });
    const packages: PreparedPackage[] = [];
    for (const [i, pkg] of chosen.entries()) {
      const orig = origs[i]!;
      const source = { url: `${server.url}/${orig.name}`, sha256: orig.sha256 };
      const bundleDir = await writeOverlaidBundle({
        treeDir,
        pkg,
        overlay,
        source,
        arch: options.arch,
        destDir: path.join(options.dir, path.basename(pkg.path)),
      });
      packages.push({ pkg, bundleDir, ...source });
    }
    return { overlay, packages, server, close };
  } catch (error) {
    await close();
    throw error;
  }
}
