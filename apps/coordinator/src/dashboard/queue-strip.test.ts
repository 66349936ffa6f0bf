import path from 'node:path';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { farmTokens, packTestBundle } from '@aoinb/farm-harness';
import { inject, useInjectFixture } from '../../test-support/inject-fixture.ts';
import { useDashboardBrowser } from '../../test-support/dashboard-browser-fixture.ts';

/** Catches a hang only (the suite's test deadline): the strip polls every 3 s. */
const deadline = 300_000;

/**
 * The queue strip under the dashboard's navigation, in Debian's Chromium against a coordinator started in this
 * process (no worker: what is queued stays waiting). Each signed-in frame holds what it drew last: it redraws
 * when the counts change and only then, and a new frame after sign-out draws its own.
 */
describe('the dashboard queue strip', () => {
  const dashboard = useDashboardBrowser('queue-strip');
  const fx = useInjectFixture({ archs: ['amd64'] }, (config) => {
    config.farm.coordinator.dashboardDir = dashboard.dist;
  });

  const amd64 = (page: Page) => page.locator('.queues [data-arch="amd64"]');
  const signIn = async (page: Page): Promise<void> => {
    await page.getByLabel('Token').fill(farmTokens.maintainer);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Tasks' }).waitFor();
  };
  const nextQueuePoll = (page: Page) => page.waitForResponse((r) => new URL(r.url()).pathname === '/queue');

  it('redraws on a change of the counts only, and draws again in a new frame after sign-out', async () => {
    const page = await dashboard.browser.newPage();
    // Playwright's own waits (30 s) are far below the suite's deadline: a loaded machine must not fail them.
    page.setDefaultTimeout(deadline);
    await page.goto(fx.coordinator.url);
    await signIn(page);
    await expect.poll(() => amd64(page).textContent(), { timeout: deadline }).toContain('0 waiting');

    // A mark on the drawn element: a redraw replaces it, so the mark goes with it.
    await amd64(page).evaluate((el) => el.setAttribute('data-test-mark', 'first draw'));
    for (let polls = 0; polls < 2; polls++) await nextQueuePoll(page);
    expect(await amd64(page).getAttribute('data-test-mark')).toBe('first draw');

    const token = farmTokens.maintainer;
    const id = (await inject(fx.app, 'POST', '/task', { token })).json<{ id: string }>().id;
    const archive = await packTestBundle(path.join(dashboard.dir, 'bundles'), { name: 'strip-waits' });
    await inject(fx.app, 'PUT', `/task/${id}/build_bundle`, { token, body: archive });
    await inject(fx.app, 'PUT', `/task/${id}/branch`, { token, body: 'stable' });
    expect((await inject(fx.app, 'PUT', `/task/${id}/build`, { token, body: {} })).statusCode).toBe(202);
    await expect.poll(() => amd64(page).textContent(), { timeout: deadline }).toContain('1 waiting');
    expect(await amd64(page).getAttribute('data-test-mark')).toBeNull();
    expect(await amd64(page).getAttribute('class')).toBe('queue busy');

    await page.getByRole('button', { name: 'Sign out' }).click();
    await signIn(page);
    // The same counts as the last frame drew: the new frame's strip draws them all the same.
    await expect.poll(() => amd64(page).textContent(), { timeout: deadline }).toContain('1 waiting');
    await page.close();
  }, 600_000);
});
