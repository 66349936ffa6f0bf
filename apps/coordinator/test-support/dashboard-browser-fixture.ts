import path from 'node:path';
import { execa } from 'execa';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll } from 'vitest';
import { useTempDir } from '@aoinb/testkit/fixtures';
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
 * Debian's Chromium and the file's own build of the dashboard, made in beforeAll, in a `useTempDir` folder (the
 * browser closes before the folder goes). Its own build, never the shared apps/dashboard/dist: other test files
 * read that meanwhile, and a rebuild swaps the folder under them. Call it before the fixture whose coordinator
 * serves the build, so its hooks run first.
 */
export function useDashboardBrowser(name: string): DashboardBrowser {
  const tmp = useTempDir(`aoinb-${name}-`);
  let browser: Browser | undefined;
  beforeAll(async () => {
    await execa('node', ['--import', 'tsx', 'apps/dashboard/build.ts', path.join(tmp.dir, 'dist')], { cwd: repoRoot });
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
  });
  const started = <T>(value: T | undefined): T => {
    if (!value) throw new Error('useDashboardBrowser: used before its beforeAll ran');
    return value;
  };
  return {
    get dir() {
      return started(tmp.dir);
    },
    get dist() {
      return path.join(started(tmp.dir), 'dist');
    },
    get browser() {
      return started(browser);
    },
  };
}
