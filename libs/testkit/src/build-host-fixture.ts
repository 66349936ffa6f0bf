import { mkdir, mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadConfig } from '@aoinb/config';
import { loadBaseos, unmountAllUnder, type BuildrootContext } from '@aoinb/buildroot';
import { silentLogger } from '@aoinb/logging';
import { copyBundleWithPort, prepareExampleSource, type ExampleSource } from './example-bundle.ts';
import { ensureTestBaseos, type TestBaseos } from './test-baseos.ts';
import { writeTestConfig } from './test-config.ts';

/**
 * A throw-away build host for end-to-end tests: config, work dir, test
 * base OS (Debian + real autobuild4) loaded, example source served.
 */
export interface BuildHost {
  dir: string;
  configDir: string;
  workDir: string;
  ctx: BuildrootContext;
  baseos: TestBaseos;
  source: ExampleSource;
  /** A copy of the example bundle whose SRCS points at this host's source server. */
  exampleBundle(name?: string): Promise<string>;
  close(): Promise<void>;
}

export interface BuildHostOptions {
  /** Replaces the default `[build]` section; may add other tables. */
  extraToml?: string;
  loadBase?: boolean;
  /** More `[build] source_allow` entries, for tests that serve other sources on loopback. */
  sourceAllow?: string[];
  /** Runs after the config folder is written and before it is loaded (e.g. to write token files). */
  beforeConfigLoad?: (configDir: string) => Promise<void>;
}

export async function createBuildHost(options: BuildHostOptions = {}): Promise<BuildHost> {
  const dir = await mkdtemp(path.join(tmpdir(), 'aoinb-host-'));
  const workDir = path.join(dir, 'work');
  const baseos = await ensureTestBaseos();
  const source = await prepareExampleSource();
  const configDir = await writeTestConfig({
    dir: path.join(dir, 'conf'),
    workDir,
    arch: baseos.arch,
    sourceLists: { stable: baseos.sourcesList },
    extraToml: options.extraToml ?? '[build]\ninstance_refresh_minutes = 600\nsample_interval_seconds = 0.5',
    // The example source is served on loopback, which the host refuses unless allowlisted.
    sourceAllow: [`127.0.0.1:${source.port}`, ...(options.sourceAllow ?? [])],
  });
  await options.beforeConfigLoad?.(configDir);
  const ctx: BuildrootContext = { config: await loadConfig(configDir), logger: silentLogger() };
  await mkdir(workDir, { recursive: true });
  await symlink(baseos.tarball, path.join(workDir, `buildkit_${baseos.arch}.tar.zst`));
  if (options.loadBase !== false) await loadBaseos(ctx);
  let copies = 0;
  return {
    dir,
    configDir,
    workDir,
    ctx,
    baseos,
    source,
    async exampleBundle(name) {
      copies += 1;
      return copyBundleWithPort({ destDir: path.join(dir, 'bundles', name ?? `hello-${copies}`), port: source.port });
    },
    async close() {
      await source.close();
      await unmountAllUnder(dir);
      await rm(dir, { recursive: true, force: true });
    },
  };
}
