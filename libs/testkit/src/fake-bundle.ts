import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import path from 'node:path';

/** A minimal bundle for builds on the fake executor or a trivial real one: one package, no source to fetch. */
export interface FakeBundle {
  /** PKGNAME, and the start of the folder's name. */
  name: string;
  /** VER (default 1.0). */
  version?: string;
  /** Extra lines for autobuild/defines (ABHOST=noarch, ALLOW_ARCH=..., FAIL_ARCH=..., BUILDDEP=...). */
  defines?: string[];
  /** Lines of `autobuild/build`, for the real pipeline (the fake executor runs none). */
  build?: string[];
  /** `fake-build.json`: what the fake executor does (durationMs, lines, linesPerSecond, fail, timestamps). */
  fake?: Record<string, unknown>;
}

/**
 * The files of a fake bundle, by their path in it: `spec` with DUMMYSRC, `autobuild/defines`, then
 * `autobuild/build` and `fake-build.json` when given.
 */
export function fakeBundleFiles(bundle: FakeBundle): Record<string, string> {
  const defines = [
    `PKGNAME=${bundle.name}`,
    'PKGSEC=utils',
    `PKGDES="${bundle.name}, a fake bundle for tests"`,
    ...(bundle.defines ?? []),
  ];
  return {
    spec: `VER=${bundle.version ?? '1.0'}\nDUMMYSRC=1\n`,
    'autobuild/defines': `${defines.join('\n')}\n`,
    ...(bundle.build && { 'autobuild/build': `${bundle.build.join('\n')}\n` }),
    ...(bundle.fake && { 'fake-build.json': JSON.stringify(bundle.fake) }),
  };
}

/** Writes a fake bundle into the folder `dir` (created if need be, as a bundle of an ABBS tree); returns `dir`. */
export async function writeFakeBundleAt(dir: string, bundle: FakeBundle): Promise<string> {
  await mkdir(path.join(dir, 'autobuild'), { recursive: true });
  for (const [file, content] of Object.entries(fakeBundleFiles(bundle))) await writeFile(path.join(dir, file), content);
  return dir;
}

/** Writes a fake bundle in a new folder `<name>-XXXXXX` under `root` (created if need be); returns its path. */
export async function writeFakeBundle(root: string, bundle: FakeBundle): Promise<string> {
  await mkdir(root, { recursive: true });
  return writeFakeBundleAt(await mkdtemp(path.join(root, `${bundle.name}-`)), bundle);
}
