import type { TestProject } from 'vitest/node';
import { buildAppsIfStale } from './app-builds.ts';
import { assertHostReady } from './host-tools.ts';
import { ensureTestBaseos } from './test-baseos.ts';

/**
 * vitest globalSetup (see vitest.config.ts): makes sure the host can run the
 * real-pipeline tests, that the apps the tests start are built from the current sources (app-builds.ts;
 * again before each rerun in watch mode) and that the test base OS (Debian + real autobuild4) exists
 * before any test's timeout starts. The first run on a machine debootstraps (a minute or two);
 * later runs find the cache and return at once.
 */
export default async function setup(project: TestProject): Promise<void> {
  project.onTestsRerun(buildAppsIfStale);
  try {
    await assertHostReady();
    await buildAppsIfStale();
    const started = Date.now();
    const baseos = await ensureTestBaseos({
      onProgress: (message) => process.stderr.write(`[aoinb testkit] ${message}\n`),
    });
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    process.stderr.write(
      `[aoinb testkit] test base OS ${baseos.key} (${baseos.suite}, ${baseos.arch}) ready in ${seconds} s\n`,
    );
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new Error(
      `aoinb test setup failed: ${message}\n` +
        '(the test suite needs root, the host tools and the Debian mirror; ' +
        'bash scripts/test.sh installs what it needs)',
      { cause: error },
    );
  }
}
