import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { AoinbError } from '@aoinb/errors';
import { serveFolder } from './http-file-server.ts';
import { makeSourceTarball } from './source-tarball.ts';

/** The repository's `examples/` folder. */
export const examplesDir = fileURLToPath(new URL('../../../examples/', import.meta.url));
export const exampleBundleDir = path.join(examplesDir, 'bundles', 'hello-aoinb');
export const exampleSourceDir = path.join(examplesDir, 'sources', 'hello-aoinb-1.0');
/** The port the example spec's SRCS names (`http://127.0.0.1:8469/...`). */
export const exampleSourcePort = 8469;
export const exampleTarballName = 'hello-aoinb-1.0.tar.gz';

export interface ExampleSource {
  /** Full URL of the tarball, e.g. `http://127.0.0.1:40123/hello-aoinb-1.0.tar.gz`. */
  url: string;
  port: number;
  /** Local copy of the tarball. */
  tarball: string;
  sha256: string;
  /** Stops serving and removes the tarball. */
  close(): Promise<void>;
}

/** The hex digest of the first `sha256::` entry of a spec's CHKSUMS. */
export async function specSha256(bundleDir: string): Promise<string> {
  const specFile = path.join(bundleDir, 'spec');
  const spec = await readFile(specFile, 'utf8');
  const match = spec.match(/^CHKSUMS=["']?sha256::([0-9a-f]{64})/m);
  if (!match?.[1]) throw new AoinbError('BUNDLE_INVALID', `${specFile}: no CHKSUMS="sha256::<hex>" line`);
  return match[1];
}

/**
 * Packs `examples/sources/hello-aoinb-1.0` into the deterministic tarball the
 * example spec names, checks its sha256 against the spec's CHKSUMS, and serves
 * it on loopback: on `port` (default: a free one; pass `exampleSourcePort` for
 * the spec's own URL, or rewrite a bundle copy with `copyBundleWithPort`).
 */
export async function prepareExampleSource(options: { port?: number } = {}): Promise<ExampleSource> {
  const dir = await mkdtemp(path.join(tmpdir(), 'aoinb-example-src-'));
  try {
    const { file, sha256 } = await makeSourceTarball({
      dir: exampleSourceDir,
      file: path.join(dir, exampleTarballName),
    });
    const expected = await specSha256(exampleBundleDir);
    if (sha256 !== expected) {
      throw new AoinbError(
        'CHECKSUM_MISMATCH',
        `the tarball of ${exampleSourceDir} has sha256 ${sha256} but ${exampleBundleDir}/spec ` +
          `says ${expected}: update CHKSUMS in the spec after changing the example source`,
      );
    }
    const server = await serveFolder({ dir, port: options.port ?? 0 });
    const close = async (): Promise<void> => {
      await server.close();
      await rm(dir, { recursive: true, force: true });
    };
    return { url: `${server.url}/${exampleTarballName}`, port: server.port, tarball: file, sha256, close };
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}

/**
 * Copies a bundle (default: the example) to `destDir` with every
 * `127.0.0.1:8469` in its spec rewritten to `127.0.0.1:<port>`. Returns `destDir`.
 */
export async function copyBundleWithPort(options: {
  destDir: string;
  port: number;
  bundleDir?: string;
}): Promise<string> {
  const source = options.bundleDir ?? exampleBundleDir;
  await cp(source, options.destDir, { recursive: true });
  const specFile = path.join(options.destDir, 'spec');
  const spec = await readFile(specFile, 'utf8');
  await writeFile(specFile, spec.replaceAll(`127.0.0.1:${exampleSourcePort}`, `127.0.0.1:${options.port}`));
  return options.destDir;
}
