import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll } from 'vitest';
import { launchChromium } from '../src/dashboard/browser.ts';

export const repoRoot = path.resolve(import.meta.dirname, '../../..');

export interface DashboardBrowser {
  /** The file's temp folder (the build is in its `dist/`; scratch files such as packed bundles go beside it). */
  readonly dir: string;
  /** The folder of this file's own dashboard build (a coordinator's `dashboardDir`). */
  readonly dist: string;
  readonly browser: Browser;
}

/**
 * Debian's Chromium and the file's own build of the dashboard, made in beforeAll and removed in afterAll. Its own
 * build, never the shared apps/dashboard/dist: other test files read that meanwhile, and a rebuild swaps the
 * folder under them. Call it before the fixture whose coordinator serves the build, so its hook runs first.
 */
export function useDashboardBrowser(name: string): DashboardBrowser {
  let built: string | undefined;
  let browser: Browser | undefined;
  beforeAll(async () => {
    built = await mkdtemp(path.join(tmpdir(), `aoinb-${name}-`));
    await execa('node', ['--import', 'tsx', 'apps/dashboard/build.ts', path.join(built, 'dist')], { cwd: repoRoot });
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    if (built) await rm(built, { recursive: true, force: true });
  });
  const started = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error('useDashboardBrowser: used before its beforeAll ran');
    return value;
  };
  return {
    get dir() {
      return started(built);
    },
    get dist() {
      return path.join(started(built), 'dist');
    },
    get browser() {
      return started(browser);
    },
  };
}
