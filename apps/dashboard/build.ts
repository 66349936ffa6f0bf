/**
 * Builds the dashboard into dist/ (or the folder named by the first argument):
 * one script and one stylesheet bundled by esbuild with content-hashed names,
 * and index.html pointing at them. Written to a temporary folder first, then
 * moved into place, so the coordinator never serves a half-written build.
 */
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { build } from 'esbuild';

const root = import.meta.dirname;
// `node --import tsx build.ts DIR` builds into DIR instead (a test's own copy, never the shared dist/).
const out = process.argv[2] ? path.resolve(process.argv[2]) : path.join(root, 'dist');
const staging = `${out}.tmp-${process.pid}`;

async function main(): Promise<void> {
  await rm(staging, { recursive: true, force: true });
  await mkdir(path.join(staging, 'assets'), { recursive: true });
  const result = await build({
    entryPoints: { app: path.join(root, 'src/main.ts'), style: path.join(root, 'src/styles.css') },
    bundle: true,
    minify: true,
    sourcemap: 'linked',
    format: 'esm',
    target: ['chrome110', 'firefox115', 'safari16'],
    outdir: path.join(staging, 'assets'),
    entryNames: '[name]-[hash]',
    metafile: true,
    logLevel: 'warning',
  });
  const outputs = Object.keys(result.metafile.outputs).map((file) => path.basename(file));
  const script = outputs.find((f) => f.startsWith('app-') && f.endsWith('.js'));
  const style = outputs.find((f) => f.startsWith('style-') && f.endsWith('.css'));
  if (!script || !style) throw new Error(`esbuild wrote no app script or stylesheet: ${outputs.join(', ')}`);
  const template = await readFile(path.join(root, 'src/index.html'), 'utf8');
  const html = template.replace('{{script}}', `/assets/${script}`).replace('{{style}}', `/assets/${style}`);
  await writeFile(path.join(staging, 'index.html'), html);
  await rm(out, { recursive: true, force: true });
  await rename(staging, out);
  console.log(`dashboard built: ${path.relative(process.cwd(), out)} (${script}, ${style})`);
}

main().catch(async (error: unknown) => {
  await rm(staging, { recursive: true, force: true });
  console.error(`dashboard build failed: ${(error as Error).message}`);
  process.exitCode = 1;
});
