/**
 * The README's "run it" command: an all-in-one farm on this host. Writes a config
 * folder (with generated tokens), loads a base OS, starts `aoinb farm up`
 * (embedded Redis, coordinator, one local worker), submits the example bundle
 * and shows its live log; the farm then keeps running until Ctrl-C
 * (`--once`: stop after the example). Where AOSC's BuildKit cannot be
 * downloaded it says so and uses the test kit's test base OS (Debian with AOSC's
 * real autobuild4 built from source; a labelled stand-in only as a last resort).
 */
import { randomBytes } from 'node:crypto';
import { access, appendFile, mkdir, rm, symlink, writeFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import path from 'node:path';
import { execa, type ResultPromise } from 'execa';
import { defaultBaseosUrl } from '@aoinb/config';
import { copyBundleWithPort, ensureTestBaseos, prepareExampleSource, writeTestConfig } from '@aoinb/testkit';

const root = process.env.AOINB_QUICKSTART_DIR ?? '/var/cache/aoinb/quickstart';
const once = process.argv.includes('--once');
const aoinb = path.resolve(import.meta.dirname, '../node_modules/.bin/aoinb');
const exists = (file: string) =>
  access(file).then(
    () => true,
    () => false,
  );

async function buildkitReachable(arch: string): Promise<boolean> {
  try {
    return (
      await fetch(defaultBaseosUrl.replaceAll('{arch}', arch), { method: 'HEAD', signal: AbortSignal.timeout(5000) })
    ).ok;
  } catch {
    return false;
  }
}

/** The branch's sources.list: AOSC's repository with BuildKit, the Debian mirror with the test base OS. */
async function prepareBaseos(arch: string, workDir: string): Promise<string> {
  if (await buildkitReachable(arch)) {
    console.log('AOSC BuildKit is reachable: load-baseos downloads it.');
    return 'deb https://repo.aosc.io/debs stable main\n';
  }
  console.log(`
*** AOSC BuildKit cannot be downloaded from this machine. ***
Using aoinb's TEST BASE OS instead: Debian trixie made with debootstrap from this machine's
Debian mirror, with AOSC's real autobuild4 built from source on top. It is NOT AOSC OS; what it
builds is for trying aoinb out, not for AOSC repositories.
`);
  const baseos = await ensureTestBaseos({ quickstartFallbacks: true, onProgress: (m) => console.log(m) });
  if (baseos.autobuild === 'standin') {
    console.log(
      "*** No autobuild4 source could be had: this base OS carries aoinb's STAND-IN autobuild, NOT AOSC's. ***",
    );
  }
  const link = path.join(workDir, `buildkit_${arch}.tar.zst`);
  if (!(await exists(link))) await symlink(baseos.tarball, link);
  return baseos.sourcesList;
}

/** `sourcePort`: the example source's loopback server, which the host fetches from only when allowlisted. */
async function writeConfig(arch: string, workDir: string, sourceList: string, sourcePort: number): Promise<string> {
  const configDir = path.join(root, 'conf');
  await mkdir(path.join(configDir, 'secrets'), { recursive: true, mode: 0o700 });
  for (const name of ['maintainer', 'worker']) {
    const file = path.join(configDir, 'secrets', `${name}.token`);
    if (!(await exists(file))) await writeFile(file, `${randomBytes(24).toString('hex')}\n`, { mode: 0o600 });
  }
  const tokens = ['maintainer', 'worker'].map(
    (role) => `[[tokens]]\nname = "quickstart-${role}"\nrole = "${role}"\nfile = "secrets/${role}.token"`,
  );
  return writeTestConfig({
    dir: configDir,
    workDir,
    arch,
    sourceLists: { stable: sourceList },
    sourceAllow: [`127.0.0.1:${sourcePort}`],
    extraToml: ['[build]\ninstance_refresh_minutes = 60', '[coordinator]\nlisten = "127.0.0.1:8460"', ...tokens].join(
      '\n\n',
    ),
  });
}

/** Starts `aoinb farm up` and resolves once it says it is up (wrapped: the child is a thenable). */
async function farmUp(configDir: string): Promise<{ farm: ResultPromise }> {
  const farm = execa(aoinb, ['-c', configDir, 'farm', 'up'], {
    stdin: 'ignore',
    stdout: 'pipe',
    stderr: 'inherit',
    reject: false,
    buffer: false,
  });
  const lines = createInterface({ input: farm.stdout });
  await new Promise<void>((resolve, reject) => {
    lines.on('line', (line) => {
      console.log(line);
      if (line.startsWith('aoinb farm is up')) resolve();
    });
    lines.once('close', () => reject(new Error('aoinb farm up stopped before the farm was up (see above)')));
  });
  return { farm };
}

async function main(): Promise<number> {
  const arch = (await execa('dpkg', ['--print-architecture'])).stdout.trim();
  const workDir = path.join(root, 'work');
  await mkdir(workDir, { recursive: true });
  const source = await prepareExampleSource();
  let configDir: string;
  let farm: ResultPromise;
  try {
    configDir = await writeConfig(arch, workDir, await prepareBaseos(arch, workDir), source.port);
    if (!(await exists(path.join(workDir, 'baseos/usr'))))
      await execa(aoinb, ['-c', configDir, 'load-baseos'], { stdio: 'inherit' });
    ({ farm } = await farmUp(configDir));
  } catch (error) {
    await source.close();
    throw error;
  }
  const stop = () => farm.kill('SIGINT');
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    const bundleDir = path.join(root, 'bundles', 'hello-aoinb');
    await rm(bundleDir, { recursive: true, force: true });
    await copyBundleWithPort({ destDir: bundleDir, port: source.port });
    // The repository refuses a same-version rebuild with other bytes: a rerun builds the next release.
    const listed = await fetch('http://127.0.0.1:8460/repo/stable/Packages').then(
      (r) => (r.ok ? r.text() : ''),
      () => '',
    );
    const earlier = listed.match(/^Package: hello-aoinb$/gm)?.length ?? 0;
    if (earlier > 0) await appendFile(path.join(bundleDir, 'spec'), `REL=${earlier}\n`);
    const submit = await execa(aoinb, ['-c', configDir, 'submit', bundleDir, '--branch', 'stable'], {
      stdio: 'inherit',
      reject: false,
    });
    console.log(`
The example was built by the farm (exit status ${submit.exitCode}). Try:
  npx aoinb -c ${configDir} builders
  npx aoinb -c ${configDir} status
  curl http://127.0.0.1:8460/repo/stable/Packages
Dashboard: http://127.0.0.1:8460/ (sign in with the maintainer token)
API docs: http://127.0.0.1:8460/docs  ·  maintainer token: ${configDir}/secrets/maintainer.token`);
    if (once) return submit.exitCode ?? 1;
    console.log('\nThe farm keeps running; Ctrl-C stops it.');
    await farm;
    return 0;
  } finally {
    stop();
    await farm;
    await source.close();
  }
}

process.exitCode = await main();
