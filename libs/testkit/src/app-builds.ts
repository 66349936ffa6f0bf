import path from 'node:path';
import { execa } from 'execa';
import { defaultTestkitCacheDir } from './cache-dir.ts';
import { withFileLock } from './file-lock.ts';

const repoRoot = path.resolve(import.meta.dirname, '../../..');

/**
 * The tests and benchmarks start the apps as built (`apps/<app>/dist/`, and the test-only fake worker's
 * `apps/worker/test-support/dist/`): node starts one in a third of the time tsx takes, and a test run
 * starts hundreds. `scripts/build-apps.ts --if-stale` rebuilds only what a source change made stale, under
 * a lock so two processes never build at once; a run with nothing changed costs under a second.
 */
export async function buildAppsIfStale(): Promise<void> {
  await withFileLock(path.join(defaultTestkitCacheDir, 'build-apps.lock'), async () => {
    const script = path.join(repoRoot, 'scripts/build-apps.ts');
    const r = await execa(process.execPath, ['--import', 'tsx', script, '--if-stale', '--test-entries'], {
      cwd: repoRoot,
      reject: false,
      all: true,
    });
    if (r.exitCode !== 0) throw new Error(`the apps' build failed (scripts/build-apps.ts):\n${r.all}`);
  });
}

let once: Promise<void> | undefined;

/**
 * `buildAppsIfStale()` once per process, for what starts the apps outside vitest (the benchmarks). Under
 * vitest the global setup built them before any test file ran (and again before each rerun in watch mode).
 */
export function ensureAppsBuilt(): Promise<void> {
  if (process.env.VITEST) return Promise.resolve();
  once ??= buildAppsIfStale();
  return once;
}
