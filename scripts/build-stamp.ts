/**
 * What a built dist/ was made from (scripts/build-apps.ts): every input file esbuild read, with its sha256,
 * in `dist/build-inputs.json`. A dist/ whose inputs all still hash the same is fresh; `--if-stale` skips it,
 * so the tests (which run the built apps) rebuild only after a source changed, and never swap a dist/ that
 * other test files' processes are running from.
 */
import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';

export const stampFile = 'build-inputs.json';

interface Stamp {
  /** Paths relative to the repository root -> sha256 (hex). */
  inputs: Record<string, string>;
}

async function digest(file: string): Promise<string | undefined> {
  const bytes = await readFile(file).catch(() => undefined);
  return bytes && createHash('sha256').update(bytes).digest('hex');
}

/** Writes the stamp of `files` (relative to `root`) into `outdir`. */
export async function writeStamp(root: string, outdir: string, files: string[]): Promise<void> {
  const inputs: Record<string, string> = {};
  for (const file of [...new Set(files)].sort()) {
    const hash = await digest(path.join(root, file));
    if (hash === undefined) throw new Error(`build input ${file} vanished during the build`);
    inputs[file] = hash;
  }
  await writeFile(path.join(outdir, stampFile), `${JSON.stringify({ inputs } satisfies Stamp, null, 1)}\n`);
}

/** True when `outdir` has a stamp and every input it names hashes as it did (a missing or garbled one: false). */
export async function isFresh(root: string, outdir: string): Promise<boolean> {
  let stamp: Stamp;
  try {
    stamp = JSON.parse(await readFile(path.join(outdir, stampFile), 'utf8')) as Stamp;
  } catch {
    return false;
  }
  const entries = Object.entries(stamp.inputs ?? {});
  if (entries.length === 0) return false;
  const now = await Promise.all(entries.map(([file]) => digest(path.join(root, file))));
  return entries.every(([, hash], i) => now[i] === hash);
}
