/**
 * The production build of the three apps (`npm run build`; development and tests run the
 * TypeScript through tsx and need none of it):
 *   node --import tsx scripts/build-apps.ts
 * Each app's src/main.ts and everything it imports from the workspace (@aoinb/*) becomes
 * ES modules in apps/<app>/dist/ (esbuild), split at dynamic imports so `aoinb --help`
 * loads only the code it runs. Third-party packages stay external and load from
 * node_modules (`npm ci --omit=dev`): a bundled file that imports a package that is not a
 * runtime dependency of the root package.json fails the build.
 *
 * Files read at runtime beside a source file (the toolbox scripts, overlay.toml, the
 * dashboard's dist/, the CLI's package.json) are found through `import.meta.url`,
 * `import.meta.dirname` and `import.meta.filename`; in a bundled module these keep meaning
 * the source file's own place in the installed tree, so dist/ holds only code.
 */
import { readFile, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { build, type Plugin } from 'esbuild';

const root = path.resolve(import.meta.dirname, '..');
const apps = ['cli', 'coordinator', 'worker'] as const;

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

async function buildApp(app: (typeof apps)[number], allowed: Set<string>): Promise<void> {
  const appDir = path.join(root, 'apps', app);
  const outdir = path.join(appDir, 'dist');
  // Built beside dist/ (same depth, so the relative source locations hold) and swapped in whole.
  const staging = path.join(appDir, `dist.tmp-${process.pid}`);
  await rm(staging, { recursive: true, force: true });
  try {
    await build({
      entryPoints: { main: path.join(appDir, 'src/main.ts') },
      outdir: staging,
      bundle: true,
      splitting: true,
      format: 'esm',
      platform: 'node',
      target: 'node20',
      sourcemap: true,
      sourcesContent: false,
      // Tells app-process.ts to start the coordinator and worker from their dist/ too.
      define: { AOINB_COMPILED: 'true' },
      plugins: [externalPackages(allowed), sourceLocations(staging)],
      logLevel: 'warning',
    });
    await rm(outdir, { recursive: true, force: true });
    await rename(staging, outdir);
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

const allowed = await runtimeDependencies();
await Promise.all(apps.map((app) => buildApp(app, allowed)));
console.log(`aoinb: built ${apps.map((app) => `apps/${app}/dist`).join(', ')}`);
