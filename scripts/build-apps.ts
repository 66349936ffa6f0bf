/**
 * The production build of the three apps (`npm run build`):
 *   node --import tsx scripts/build-apps.ts [--if-stale] [--test-entries]
 * Each app's src/main.ts and everything it imports from the workspace (@aoinb/*) becomes
 * ES modules in apps/<app>/dist/ (esbuild), split at dynamic imports so `aoinb --help`
 * loads only the code it runs. Third-party packages stay external and load from
 * node_modules (`npm ci --omit=dev`): a bundled file that imports a package that is not a
 * runtime dependency of the root package.json fails the build.
 *
 * The tests run these builds too (node starts one in a third of tsx's time, and the tests start
 * hundreds): `--test-entries` adds the test-only fake worker (apps/worker/test-support/dist/), and
 * `--if-stale` leaves alone every dist/ whose inputs have not changed (scripts/build-stamp.ts).
 *
 * Files read at runtime beside a source file (the toolbox scripts, overlay.toml, the
 * dashboard's dist/, the CLI's package.json) are found through `import.meta.url`,
 * `import.meta.dirname` and `import.meta.filename`; in a bundled module these keep meaning
 * the source file's own place in the installed tree, so dist/ holds only code.
 */
import { readFile, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { build, type Plugin } from 'esbuild';
import { isFresh, writeStamp } from './build-stamp.ts';

const root = path.resolve(import.meta.dirname, '..');

interface Target {
  /** The entry point and the folder it is built into, relative to the repository root. */
  entry: string;
  outdir: string;
}

const apps: Target[] = ['cli', 'coordinator', 'worker'].map((app) => ({
  entry: `apps/${app}/src/main.ts`,
  outdir: `apps/${app}/dist`,
}));
/** Test-only: never in `npm run build` (the image has no test-support/, see .dockerignore). */
const testEntries: Target[] = [
  { entry: 'apps/worker/test-support/fake-worker-main.ts', outdir: 'apps/worker/test-support/dist' },
];
/** Inputs of every build beside the files esbuild reads: a change in them rebuilds. */
const buildInputs = ['scripts/build-apps.ts', 'scripts/build-stamp.ts', 'package.json', 'package-lock.json'];

async function runtimeDependencies(): Promise<Set<string>> {
  const manifest = JSON.parse(await readFile(path.join(root, 'package.json'), 'utf8')) as {
    dependencies?: Record<string, string>;
  };
  return new Set(Object.keys(manifest.dependencies ?? {}));
}

/** `@scope/name/sub` -> `@scope/name`, `name/sub` -> `name`. */
function packageName(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
}

/** Workspace packages are bundled; every other package must be a runtime dependency, left external. */
function externalPackages(allowed: Set<string>): Plugin {
  return {
    name: 'aoinb-external-packages',
    setup(b) {
      b.onResolve({ filter: /^[^./]/ }, (args) => {
        if (args.path.startsWith('node:') || args.path.startsWith('@aoinb/')) return undefined;
        const name = packageName(args.path);
        if (allowed.has(name)) return { path: args.path, external: true };
        const from = path.relative(root, args.importer);
        return { errors: [{ text: `${from} imports ${name}, which is not a dependency of package.json` }] };
      });
    },
  };
}

/** `import.meta.url`/`dirname`/`filename` of a bundled module: its source file's, relative to the output. */
function sourceLocations(outdir: string): Plugin {
  return {
    name: 'aoinb-source-locations',
    setup(b) {
      b.onLoad({ filter: /\.ts$/ }, async (args) => {
        const source = await readFile(args.path, 'utf8');
        if (!source.includes('import.meta.') || args.path.includes(`${path.sep}node_modules${path.sep}`)) {
          return { contents: source, loader: 'ts' };
        }
        const file = path.relative(outdir, args.path).split(path.sep).join('/');
        const dir = path.posix.dirname(file);
        const contents = source.replace(/\bimport\.meta\.(url|dirname|filename)\b/g, (_, what: string) => {
          if (what === 'url') return `new URL(${JSON.stringify(file)}, import.meta.url).href`;
          return `(import.meta.dirname + ${JSON.stringify(`/${what === 'dirname' ? dir : file}`)})`;
        });
        return { contents, loader: 'ts' };
      });
    },
  };
}

async function buildTarget(target: Target, allowed: Set<string>): Promise<void> {
  const outdir = path.join(root, target.outdir);
  // Built beside dist/ (same depth, so the relative source locations hold) and swapped in whole.
  const staging = `${outdir}.tmp-${process.pid}`;
  await rm(staging, { recursive: true, force: true });
  try {
    const result = await build({
      absWorkingDir: root,
      entryPoints: { main: path.join(root, target.entry) },
      outdir: staging,
      bundle: true,
      splitting: true,
      format: 'esm',
      platform: 'node',
      target: 'node20',
      sourcemap: true,
      sourcesContent: false,
      metafile: true,
      // Tells app-process.ts to start the coordinator and worker from their dist/ too.
      define: { AOINB_COMPILED: 'true' },
      plugins: [externalPackages(allowed), sourceLocations(staging)],
      logLevel: 'warning',
    });
    await writeStamp(root, staging, [...Object.keys(result.metafile.inputs), ...buildInputs]);
    await rm(outdir, { recursive: true, force: true });
    await rename(staging, outdir);
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

const flags = new Set(process.argv.slice(2));
for (const flag of flags) {
  if (flag !== '--if-stale' && flag !== '--test-entries') {
    console.error(`build-apps: unknown option ${flag} (--if-stale, --test-entries)`);
    process.exit(2);
  }
}
const targets = flags.has('--test-entries') ? [...apps, ...testEntries] : apps;
const fresh = flags.has('--if-stale')
  ? await Promise.all(targets.map((t) => isFresh(root, path.join(root, t.outdir))))
  : targets.map(() => false);
const stale = targets.filter((_, i) => !fresh[i]);
const allowed = await runtimeDependencies();
await Promise.all(stale.map((target) => buildTarget(target, allowed)));
const upToDate = targets.length - stale.length;
console.log(
  `aoinb: built ${stale.map((t) => t.outdir).join(', ') || 'nothing'}${upToDate ? ` (${upToDate} up to date)` : ''}`,
);
