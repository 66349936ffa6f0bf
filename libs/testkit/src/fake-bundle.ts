import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import path from 'node:path';

/** A minimal bundle for builds on the fake executor: one package, no source to fetch. */
export interface FakeBundle {
  /** PKGNAME, and the start of the folder's name. */
  name: string;
  /** VER (default 1.0). */
  version?: string;
  /** Extra lines for autobuild/defines (ABHOST=noarch, ALLOW_ARCH=..., FAIL_ARCH=...). */
  defines?: string[];
  /** `fake-build.json`: what the fake executor does (durationMs, lines, linesPerSecond, fail, timestamps). */
  fake?: Record<string, unknown>;
}

/**
 * Writes a fake bundle folder (`spec` with DUMMYSRC, `autobuild/defines`, `fake-build.json` when `fake` is
 * given) in a new folder `<name>-XXXXXX` under `root` (created if need be); returns its path.
 */
export async function writeFakeBundle(root: string, bundle: FakeBundle): Promise<string> {
  await mkdir(root, { recursive: true });
  const dir = await mkdtemp(path.join(root, `${bundle.name}-`));
  await mkdir(path.join(dir, 'autobuild'));
  await writeFile(path.join(dir, 'spec'), `VER=${bundle.version ?? '1.0'}\nDUMMYSRC=1\n`);
  const defines = [
    `PKGNAME=${bundle.name}`,
    'PKGSEC=utils',
    `PKGDES="${bundle.name}, a fake bundle for tests"`,
    ...(bundle.defines ?? []),
  ];
  await writeFile(path.join(dir, 'autobuild/defines'), `${defines.join('\n')}\n`);
  if (bundle.fake) await writeFile(path.join(dir, 'fake-build.json'), JSON.stringify(bundle.fake));
  return dir;
}
