/**
 * The README's "run it" command: sets up a config folder, a base OS and the
 * example bundle, then builds the example into a real .deb with `aoinb build`.
 * Where AOSC's BuildKit cannot be downloaded it says so and uses the test kit's
 * Debian stand-in base OS, labelled as such.
 */
import { mkdir, symlink, access, rm } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { defaultBaseosUrl } from '@aoinb/config';
import { copyBundleWithPort, ensureStandinBaseos, prepareExampleSource, writeTestConfig } from '@aoinb/testkit';

const root = process.env.AOINB_QUICKSTART_DIR ?? '/var/cache/aoinb/quickstart';
const repo = path.resolve(import.meta.dirname, '..');

async function buildkitReachable(arch: string): Promise<boolean> {
  const url = defaultBaseosUrl.replaceAll('{arch}', arch);
  try {
    const response = await fetch(url, { method: 'HEAD', signal: AbortSignal.timeout(5000) });
    return response.ok;
  } catch {
    return false;
  }
}

async function main(): Promise<void> {
  const arch = (await execa('dpkg', ['--print-architecture'])).stdout.trim();
  const workDir = path.join(root, 'work');
  await mkdir(workDir, { recursive: true });
  let sourceList: string;
  if (await buildkitReachable(arch)) {
    console.log(`AOSC BuildKit is reachable: load-baseos will download it.`);
    sourceList = 'deb https://repo.aosc.io/debs stable main\n';
  } else {
    console.log(
      [
        '',
        '*** AOSC BuildKit cannot be downloaded from this machine. ***',
        'Using aoinb\'s STAND-IN base OS instead: a Debian rootfs made with debootstrap from',
        'this machine\'s Debian mirror, with a stand-in autobuild. It is NOT AOSC OS; packages',
        'built on it are for trying aoinb out, not for AOSC repositories.',
        '',
      ].join('\n'),
    );
    const standin = await ensureStandinBaseos({ onProgress: (m) => console.log(m) });
    const link = path.join(workDir, `buildkit_${arch}.tar.zst`);
    await access(link).catch(() => symlink(standin.tarball, link));
    sourceList = standin.sourcesList;
  }
  const configDir = await writeTestConfig({
    dir: path.join(root, 'conf'),
    workDir,
    arch,
    sourceLists: { stable: sourceList },
    extraToml: '[build]\ninstance_refresh_minutes = 60',
  });
  const source = await prepareExampleSource();
  try {
    const bundleDir = path.join(root, 'bundles', 'hello-aoinb');
    await rm(bundleDir, { recursive: true, force: true });
    await copyBundleWithPort({ destDir: bundleDir, port: source.port });
    const aoinb = path.join(repo, 'node_modules/.bin/aoinb');
    await execa(aoinb, ['-c', configDir, 'load-baseos'], { stdio: 'inherit' });
    const build = await execa(aoinb, ['-c', configDir, 'build', bundleDir, 'stable'], { stdio: 'inherit', reject: false });
    console.log(`\nconfig folder: ${configDir}\noutput: ${path.join(workDir, 'output/stable')}`);
    process.exitCode = build.exitCode ?? 1;
  } finally {
    await source.close();
  }
}

await main();
