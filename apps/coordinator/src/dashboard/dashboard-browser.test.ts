import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  FarmHarness,
  farmTokens,
  postGroup,
  uploadTasks,
  waitForGroup,
  packTestBundle,
  type TestBundle,
} from '@aoinb/farm-harness';
import { repoRoot, useDashboardBrowser } from '../../test-support/dashboard-browser-fixture.ts';

/**
 * The dashboard in Debian's Chromium (headless, driven by playwright-core)
 * against a live farm: redis-server, the coordinator serving the built
 * dashboard, two worker agents on the fake executor. Screenshots go to
 * AOINB_SCREENSHOTS (docs/screenshots for the README) or a temp folder.
 */

describe('the dashboard in a real browser', () => {
  let farm: FarmHarness;
  const dashboard = useDashboardBrowser('dashboard-browser');
  let shots: string;
  const pack = (b: TestBundle): Promise<Buffer> => packTestBundle(path.join(farm.root, 'bundles'), b);
  const shot = (page: Page, name: string): Promise<Buffer> =>
    page.screenshot({ path: path.join(shots, `${name}.png`), fullPage: true });

  async function signedIn(
    options: { token?: string; viewport?: { width: number; height: number }; dark?: boolean } = {},
  ): Promise<Page> {
    const context = await dashboard.browser.newContext({
      viewport: options.viewport ?? { width: 1280, height: 800 },
      colorScheme: options.dark ? 'dark' : 'light',
    });
    const page = await context.newPage();
    page.on('dialog', (d) => void d.accept());
    await page.goto(farm.coordinatorUrl);
    await page.getByLabel('Token').fill(options.token ?? farmTokens.maintainer);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Tasks' }).waitFor();
    return page;
  }

  beforeAll(async () => {
    farm = await FarmHarness.create({
      archs: ['amd64', 'arm64'],
      noarchArch: 'amd64',
      dashboardDir: dashboard.dist,
    });
    shots = process.env.AOINB_SCREENSHOTS
      ? path.resolve(repoRoot, process.env.AOINB_SCREENSHOTS)
      : path.join(farm.root, 'screenshots');
    await mkdir(shots, { recursive: true });
    await farm.startCoordinator();
    await Promise.all([
      farm.startWorker({ id: 'amd64-builder-1', archs: ['amd64'], slots: 2 }),
      farm.startWorker({ id: 'arm64-builder-1', archs: ['arm64'] }),
    ]);
  });

  afterAll(async () => {
    await farm?.stop();
  });

  it('signs in with a token kept in sessionStorage (never in the URL), refusing a wrong one', async () => {
    const context = await dashboard.browser.newContext({ viewport: { width: 1280, height: 720 } });
    const page = await context.newPage();
    const urls: string[] = [];
    page.on('request', (r) => urls.push(r.url()));
    await page.goto(farm.coordinatorUrl);
    await page.getByLabel('Token').fill('not-a-token');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toMatch(/Sign-in failed: the token is not known/);
    await shot(page, 'sign-in');
    await page.getByLabel('Token').fill(farmTokens.maintainer);
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Tasks' }).waitFor();
    expect(await page.evaluate('sessionStorage.getItem("aoinb.token")')).toBe(farmTokens.maintainer);
    expect(await page.evaluate('localStorage.length')).toBe(0);
    expect(urls.some((u) => u.includes(farmTokens.maintainer) || u.includes('not-a-token'))).toBe(false);
    expect(page.url()).not.toContain('token');
    await expect.poll(() => page.locator('header').textContent()).toContain('maintainer-user (maintainer)');
    await context.close();
  });

  it('shows a task being built with its live log lines arriving, then its packages', async () => {
    const id = await farm.submit(
      await pack({
        name: 'hello-live',
        version: '2.12',
        defines: ['ALLOW_ARCH="@(amd64|arm64)"'],
        fake: { durationMs: 7000, lines: 80, linesPerSecond: 12 },
      }),
    );
    const page = await signedIn();
    await page.locator(`tr[data-task="${id}"] a`).click();
    await page.getByRole('heading', { name: new RegExp(`Task ${id}: hello-live 2\\.12`) }).waitFor();
    const lines = page.locator('.log .line');
    await expect.poll(() => lines.count(), { timeout: 120_000 }).toBeGreaterThan(5);
    const seen = await lines.count();
    expect(await page.locator('h1 .state').textContent()).toMatch(/running/);
    await expect.poll(() => lines.count(), { timeout: 120_000 }).toBeGreaterThan(seen);
    expect(await page.locator('.log-status').textContent()).toBe('live');
    await page.waitForTimeout(1500);
    await shot(page, 'task-running');
    await expect.poll(() => page.locator('h1 .state').textContent(), { timeout: 120_000 }).toMatch(/succeeded/);
    await expect
      .poll(() => page.locator('.log-status').textContent(), { timeout: 120_000 })
      .toMatch(/log complete: the build succeeded/);
    expect(await lines.count()).toBe(
      80 + (await farm.api('GET', `/task/${id}/log?arch=amd64`)).text.split('\n').length - 1 - 80,
    );
    await page.getByLabel('Search the log').fill('line 42');
    await expect.poll(() => page.locator('.log mark').count()).toBeGreaterThan(0);
    await page.getByLabel('Search the log').fill('');
    await expect.poll(() => page.locator('.job[data-arch="amd64"] .artifacts').count()).toBeGreaterThan(0);
    await expect
      .poll(() => page.locator('.job[data-arch="amd64"] .artifacts td').first().textContent())
      .toMatch(/hello-live.*\.deb/);
    const download = page.waitForEvent('download');
    await page.locator('.job[data-arch="amd64"] .artifacts button', { hasText: 'Download' }).first().click();
    expect((await download).suggestedFilename()).toMatch(/^hello-live_2\.12.*\.deb$/);
    await page.locator('.tabs button', { hasText: 'arm64' }).click();
    await expect.poll(() => page.locator('.log-status').textContent(), { timeout: 120_000 }).toMatch(/log complete/);
    await shot(page, 'task');
    await page.context().close();
  });

  it('shows a group as layers with the failed member and its skipped dependents named', async () => {
    const amd64 = (name: string, defines: string[] = [], fake: Record<string, unknown> = {}): Promise<Buffer> =>
      pack({ name, defines: ['ALLOW_ARCH="amd64"', ...defines], fake: { durationMs: 1500, ...fake } });
    const tasks = await uploadTasks(
      farm,
      await Promise.all([
        amd64('libfoo', [], { fail: 'configure: error: libbar not found' }),
        amd64('libfoo-extras', ['BUILDDEP="libfoo"']),
        amd64('foo-tools', ['BUILDDEP="libfoo-extras"']),
        amd64('docs-common', [], { durationMs: 800 }),
        amd64('foo-docs', ['BUILDDEP="docs-common"'], { durationMs: 800 }),
      ]),
    );
    const created = await postGroup(farm, { branch: 'stable', tasks });
    expect(created.status).toBe(201);
    const id = (created.body as { id: string }).id;
    const page = await signedIn();
    await page.getByRole('link', { name: 'Groups' }).click();
    await page.locator(`tr[data-group="${id}"] a`).click();
    await page.getByRole('heading', { name: new RegExp(`Group ${id}`) }).waitFor();
    await waitForGroup(farm, id, ['failed', 'partial']);
    const card = (pkg: string) => page.locator(`.member[data-member="${pkg}"]`);
    // By the card's own state: its text names its dependencies' states too ("Waiting for libfoo-extras (amd64),
    // skipped."), so a text match can pass on a page that has not yet shown the skip itself.
    const stateOf = (pkg: string) => card(pkg).getAttribute('data-state');
    await expect.poll(() => stateOf('foo-tools'), { timeout: 120_000 }).toBe('skipped');
    expect(await card('libfoo').textContent()).toMatch(/failed.*Failed: configure: error: libbar not found/);
    expect(await card('libfoo-extras').textContent()).toContain('Skipped because libfoo (amd64) failed.');
    expect(await card('foo-tools').textContent()).toContain(
      'Skipped because libfoo-extras (amd64) was skipped, because libfoo (amd64) failed.',
    );
    await expect.poll(() => stateOf('foo-docs'), { timeout: 120_000 }).toBe('succeeded');
    expect(await page.locator('.layer').count()).toBe(3);
    expect(await page.locator('.member.critical').count()).toBeGreaterThan(0);
    expect(await page.getByRole('button', { name: 'Retry failed and skipped' }).isEnabled()).toBe(true);
    expect(await page.getByRole('button', { name: 'Cancel group' }).isDisabled()).toBe(true);
    await shot(page, 'group');
    await page.setViewportSize({ width: 390, height: 844 });
    await shot(page, 'group-phone');
    const overflow = await page.evaluate<number>(
      'document.documentElement.scrollWidth - document.documentElement.clientWidth',
    );
    expect(overflow).toBeLessThanOrEqual(0);
    await page.context().close();
  });

  it('lists tasks with filters, keyboard-navigable, in light and dark', async () => {
    const page = await signedIn({ dark: true });
    await page.getByLabel('State').selectOption('failed');
    // The filtered list replaces the unfiltered one when its answer arrives: wait for that, not for any rows.
    const states = () => page.locator('tbody tr[data-task] .state').allTextContents();
    await expect
      .poll(async () => (await states()).length > 0 && (await states()).every((s) => /failed/.test(s)), {
        timeout: 120_000,
      })
      .toBe(true);
    expect(page.url()).toContain('state=failed');
    await page.getByLabel('State').selectOption('');
    await page.getByLabel('Submitted by').fill('nobody');
    await expect.poll(() => page.locator('tbody .empty').count()).toBe(1);
    await page.getByLabel('Submitted by').fill('maintainer-user');
    await expect.poll(() => page.locator('tbody tr[data-task]').count()).toBeGreaterThan(3);
    const background = await page.evaluate('getComputedStyle(document.body).backgroundColor');
    expect(background).toBe('rgb(17, 21, 28)');
    await shot(page, 'tasks-dark');
    // Keyboard: the first Tab reaches the skip link, Enter moves to the content; a task link opens with Enter.
    await page.reload();
    await page.getByRole('heading', { name: 'Tasks' }).waitFor();
    await page.keyboard.press('Tab');
    expect(await page.evaluate('document.activeElement?.textContent')).toBe('Skip to content');
    await page.keyboard.press('Enter');
    expect(await page.evaluate('document.activeElement?.id')).toBe('main');
    const first = page.locator('tbody tr[data-task] a').first();
    await first.focus();
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: /^Task \d+/ }).waitFor();
    await page.context().close();
    const light = await signedIn();
    await expect.poll(() => light.locator('tbody tr[data-task]').count()).toBeGreaterThan(3);
    await shot(light, 'tasks');
    await light.context().close();
  });

  it('shows builders with arch tags, slots and load, and one going offline', async () => {
    const page = await signedIn({ token: farmTokens.worker });
    await page.getByRole('link', { name: 'Builders' }).click();
    const card = (id: string) => page.locator(`.builder[data-builder="${id}"]`);
    await expect.poll(() => card('arm64-builder-1').getAttribute('data-availability')).toBe('online');
    expect(await card('amd64-builder-1').textContent()).toMatch(/Arch tags\s*amd64.*Slots\s*0 of 2 busy/);
    await shot(page, 'builders');
    await farm.kill('arm64-builder-1', 'SIGKILL');
    await expect
      .poll(() => card('arm64-builder-1').getAttribute('data-availability'), { timeout: 120_000 })
      .toBe('offline');
    expect(await card('arm64-builder-1').locator('.state').textContent()).toMatch(/offline/);
    expect(await card('arm64-builder-1').textContent()).toMatch(/last known facts.*Arch tags\s*arm64/);
    expect(await page.locator('.queue[data-arch="arm64"]').textContent()).toMatch(/arm64 0 waiting/);
    await shot(page, 'builders-offline');
    await page.context().close();
  });

  it('hides cancel and retry from a token that may not use them', async () => {
    const page = await signedIn({ token: farmTokens.worker });
    await page.locator('tbody tr[data-task] a').first().click();
    await page.getByRole('heading', { name: /^Task \d+/ }).waitFor();
    await expect.poll(() => page.locator('.summary .facts').count()).toBe(1);
    expect(await page.getByRole('button', { name: 'Retry' }).count()).toBe(0);
    await page.setViewportSize({ width: 390, height: 844 });
    await shot(page, 'task-phone');
    expect(
      await page.evaluate<number>('document.documentElement.scrollWidth - document.documentElement.clientWidth'),
    ).toBeLessThanOrEqual(0);
    await page.context().close();
  });
});
