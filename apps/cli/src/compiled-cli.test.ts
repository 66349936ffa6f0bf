import { readdir, readFile, mkdir, stat, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBuildHost, type BuildHost } from '@aoinb/testkit/build-host';
import { freePort } from '@aoinb/testkit';
import { startFarmUp, type FarmUpProcess } from '../test-support/farm-up-process.ts';

// The production build (`npm run build`), as the tests' global setup keeps it: rebuilt from the sources
// whenever one changed (libs/testkit/src/app-builds.ts), so the tests check this tree, never a stale dist/.
const root = fileURLToPath(new URL('../../../', import.meta.url));
const bin = path.join(root, 'apps/cli/bin/aoinb.js');
const devBin = path.join(root, 'apps/cli/bin/aoinb-dev.js');
const plainEnv = { PATH: process.env.PATH ?? '/usr/bin:/bin', NO_COLOR: '1' };

describe('the built aoinb (apps/cli/bin/aoinb.js -> apps/cli/dist)', () => {
  it('is rebuilt only when an input changed: --if-stale leaves a fresh dist/ in place', async () => {
    const before = await stat(path.join(root, 'apps/cli/dist'));
    const r = await execa(
      process.execPath,
      ['--import', 'tsx', 'scripts/build-apps.ts', '--if-stale', '--test-entries'],
      {
        cwd: root,
      },
    );
    expect(r.stdout).toBe('aoinb: built nothing (4 up to date)');
    expect((await stat(path.join(root, 'apps/cli/dist'))).ino).toBe(before.ino);
  });

  it('prints its version and the same help as the sources, with plain node', async () => {
    const manifest = JSON.parse(await readFile(path.join(root, 'apps/cli/package.json'), 'utf8')) as {
      version: string;
      bin: Record<string, string>;
    };
    expect(path.resolve(root, 'apps/cli', manifest.bin.aoinb!)).toBe(bin);
    const version = await execa(process.execPath, [bin, '--version'], { env: plainEnv, extendEnv: false });
    expect(version.stdout).toBe(manifest.version);
    const help = await execa(process.execPath, [bin, '--help'], { env: plainEnv, extendEnv: false });
    const fromSource = await execa(process.execPath, [devBin, '--help'], { env: plainEnv, extendEnv: false });
    expect(help.stdout).toContain('Usage: aoinb');
    expect(help.stdout).toBe(fromSource.stdout);
  });

  it('runs the coordinator and worker entry points (systemd, the image): --help, --version, bad options', async () => {
    const runApp = (app: string, ...args: string[]) =>
      execa(process.execPath, [path.join(root, `apps/${app}/dist/main.js`), ...args], {
        env: plainEnv,
        extendEnv: false,
        reject: false,
      });
    for (const app of ['coordinator', 'worker']) {
      const run = (...args: string[]) => runApp(app, ...args);
      const help = await run('--help');
      expect([help.exitCode, help.stderr]).toEqual([0, '']);
      expect(help.stdout).toContain(`Usage: node apps/${app}/dist/main.js [options]`);
      expect(help.stdout).toMatch(/-c, --config DIR/);
      const manifest = JSON.parse(await readFile(path.join(root, `apps/${app}/package.json`), 'utf8')) as {
        version: string;
      };
      expect((await run('-V')).stdout).toBe(`aoinb ${app} ${manifest.version}`);
      const bad = await run('--bogus');
      expect(bad.exitCode).toBe(2);
      expect(bad.stderr).toMatch(new RegExp(`^aoinb ${app}: Unknown option '--bogus'.* \\(try --help\\)$`));
    }
    const mode = await runApp('worker', '--on-shutdown', 'later');
    expect([mode.exitCode, mode.stderr]).toEqual([
      2,
      'aoinb worker: --on-shutdown must be requeue or finish, not "later"',
    ]);
  });

  it('loads no TypeScript and no tsx: only its own chunks and runtime dependencies', async () => {
    const manifest = JSON.parse(await readFile(path.join(root, 'package.json'), 'utf8')) as {
      dependencies: Record<string, string>;
    };
    for (const app of ['cli', 'coordinator', 'worker']) {
      const dist = path.join(root, 'apps', app, 'dist');
      for (const file of (await readdir(dist)).filter((f) => f.endsWith('.js'))) {
        const code = await readFile(path.join(dist, file), 'utf8');
        for (const [, spec] of code.matchAll(/(?:^|\n)\s*import\b[^'"]*?from\s*"([^"]+)"|\bimport\("([^"]+)"\)/g)) {
          if (!spec || spec.startsWith('node:')) continue;
          if (spec.startsWith('./'))
            expect(existsSync(path.join(dist, spec)), `${app}/dist/${file}: ${spec}`).toBe(true);
          else {
            const name = spec
              .split('/')
              .slice(0, spec.startsWith('@') ? 2 : 1)
              .join('/');
            expect(Object.keys(manifest.dependencies), `${app}/dist/${file}: ${spec}`).toContain(name);
          }
        }
      }
    }
  });

  it('is built from production sources only: no test, test-support/ or test-only package in it', async () => {
    // esbuild's source maps list every file that went into a chunk.
    const testCode = /(\.test\.ts$|\/test-support\/|\/libs\/(testkit|farm-harness)\/|\/node_modules\/vitest\/)/;
    let sources = 0;
    for (const app of ['cli', 'coordinator', 'worker']) {
      const dist = path.join(root, 'apps', app, 'dist');
      for (const file of (await readdir(dist)).filter((f) => f.endsWith('.js.map'))) {
        const map = JSON.parse(await readFile(path.join(dist, file), 'utf8')) as { sources: string[] };
        const inputs = map.sources.map((s) => path.resolve(dist, s));
        expect(
          inputs.filter((s) => testCode.test(s)),
          `${app}/dist/${file}`,
        ).toEqual([]);
        sources += inputs.length;
      }
    }
    expect(sources).toBeGreaterThan(100);
  });

  it('finds the files it reads at runtime (toolbox scripts, dashboard, package.json) in the tree', async () => {
    // Each `new URL(FILE, <source file's URL>)` of the bundles, resolved as at runtime.
    let checked = 0;
    for (const app of ['cli', 'coordinator', 'worker']) {
      const dist = path.join(root, 'apps', app, 'dist');
      for (const file of (await readdir(dist)).filter((f) => f.endsWith('.js'))) {
        const code = await readFile(path.join(dist, file), 'utf8');
        for (const [, rel, source] of code.matchAll(
          /new URL\("([^"]+)", new URL\("([^"]+)", import\.meta\.url\)\.href\)/g,
        )) {
          const sourceFile = new URL(source!, `file://${dist}/${file}`);
          expect(existsSync(sourceFile), `${app}: ${source}`).toBe(true);
          const target = fileURLToPath(new URL(rel!, sourceFile));
          expect(existsSync(target), `${app}/dist/${file} reads ${path.relative(root, target)}`).toBe(true);
          checked++;
        }
      }
    }
    // The worker's two toolbox scripts and the CLI's package.json at least.
    expect(checked).toBeGreaterThanOrEqual(3);
  });
});

describe('aoinb farm up, built: the CLI starts the built coordinator and worker', () => {
  let host: BuildHost;
  let farm: FarmUpProcess | undefined;

  beforeAll(async () => {
    const port = await freePort();
    // farm up checks for a loaded base OS before it starts anything.
    host = await createBuildHost({
      extraToml: [
        `[coordinator]\nlisten = "127.0.0.1:${port}"`,
        '[[tokens]]\nname = "maint"\nrole = "maintainer"\nfile = "secrets/maint.token"',
        '[[tokens]]\nname = "w"\nrole = "worker"\nfile = "secrets/worker.token"',
      ].join('\n\n'),
      beforeConfigLoad: async (configDir) => {
        await mkdir(path.join(configDir, 'secrets'), { recursive: true });
        await writeFile(path.join(configDir, 'secrets/maint.token'), 'compiled-maintainer-token');
        await writeFile(path.join(configDir, 'secrets/worker.token'), 'compiled-worker-token');
      },
    });
    farm = await startFarmUp(bin, host.configDir, ['--log-format', 'json']);
  });

  afterAll(async () => {
    await farm?.stop();
    await host?.close();
  });

  it('runs apps/coordinator/dist and apps/worker/dist with plain node, and the worker registers', async () => {
    const children = await childCommandLines(farm!.child.pid!);
    for (const app of ['coordinator', 'worker']) {
      const line = children.find((c) => c.includes(`apps/${app}/`));
      expect(line, children.join('\n')).toContain(`apps/${app}/dist/main.js`);
      expect(line).not.toContain('tsx');
    }
    // The built CLI's farm commands talk to the built coordinator, which the built worker joined.
    // `farm is up` once the worker started, not once it joined: wait for its first heartbeat (120 s bounds a hang).
    let builders: { builders: { id: string }[] } = { builders: [] };
    for (const deadline = Date.now() + 120_000; Date.now() < deadline && builders.builders.length === 0;) {
      const r = await execa(process.execPath, [bin, '-c', host.configDir, 'builders', '--json'], { reject: false });
      expect(r.exitCode, r.all ?? r.stderr).toBe(0);
      builders = JSON.parse(r.stdout) as typeof builders;
      if (builders.builders.length === 0) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(builders.builders).toHaveLength(1);
  });
});

/** The command lines of a process's children (from /proc). */
async function childCommandLines(pid: number): Promise<string[]> {
  const lines: string[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '');
    // Field 4 (after the parenthesised name) is the parent pid.
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    if (ppid !== pid) continue;
    lines.push((await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '')).split('\0').join(' '));
  }
  return lines;
}
