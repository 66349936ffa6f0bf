import path from 'node:path';
import { build } from 'esbuild';
import type { Page, Request } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { farmTokens, packTestBundle } from '@aoinb/farm-harness';
import { inject, useInjectFixture } from '../../test-support/inject-fixture.ts';
import { repoRoot, useDashboardBrowser } from '../../test-support/dashboard-browser-fixture.ts';

const deadline = 300_000;

/** The dashboard's Session and ApiClient as the page sees them (the test drives them inside Chromium). */
interface InPage {
  Session: new (token: string) => {
    end(): void;
    identity(): { name: string; role: string } | undefined;
    setIdentity(who: { name: string; role: string }): void;
    mayAct(): boolean;
  };
  ApiClient: new (
    session: InstanceType<InPage['Session']>,
    onUnauthorized: () => void,
  ) => {
    request<T>(method: string, path: string): Promise<T>;
    poll(signal: AbortSignal, ms: number, tick: () => Promise<void>): void;
  };
}

/**
 * A sign-in is a Session with its own ApiClient (no module-level token, role or 401 handler), and sign-out ends
 * it: in Debian's Chromium against a coordinator started in this process (no worker: a queued build's log stream
 * stays open). The dashboard is its own build, never the shared apps/dashboard/dist.
 */
describe('the dashboard sign-in session', () => {
  const dashboard = useDashboardBrowser('dashboard-session');
  let inPage: string;
  beforeAll(async () => {
    // The two classes, bundled for the page as the app bundles them, to run two sessions side by side.
    const bundle = await build({
      stdin: {
        contents: "export { Session } from './session.ts'; export { ApiClient } from './api.ts';",
        resolveDir: path.join(repoRoot, 'apps/dashboard/src'),
        loader: 'ts',
      },
      bundle: true,
      format: 'iife',
      globalName: 'aoinbDashboard',
      write: false,
      logLevel: 'warning',
    });
    inPage = bundle.outputFiles[0]!.text;
  });
  const fx = useInjectFixture({ archs: ['amd64'] }, (config) => {
    config.farm.coordinator.dashboardDir = dashboard.dist;
  });

  async function openPage(): Promise<Page> {
    const page = await dashboard.browser.newPage();
    page.setDefaultTimeout(deadline);
    await page.goto(fx.coordinator.url);
    return page;
  }

  it('keeps two sessions apart: each its own token, role, 401 handler and end', async () => {
    const page = await openPage();
    await page.evaluate(inPage);
    const seen = await page.evaluate(async (tokens) => {
      const { Session, ApiClient } = (globalThis as unknown as { aoinbDashboard: InPage }).aoinbDashboard;
      const unauthorized = { maintainer: 0, reader: 0, stranger: 0 };
      const open = (token: string, name: keyof typeof unauthorized) => {
        const session = new Session(token);
        return { session, api: new ApiClient(session, () => (unauthorized[name] += 1)) };
      };
      type Who = { name: string; role: string };
      // The refused one first: a handler kept by the module would be the last session's.
      const [c, a, b] = [open('x', 'stranger'), open(tokens.maintainer, 'maintainer'), open(tokens.reader, 'reader')];
      const [whoA, whoB] = await Promise.all([a, b].map((s) => s.api.request<Who>('GET', '/whoami')));
      a.session.setIdentity(whoA!);
      b.session.setIdentity(whoB!);
      const mayAct = [a.session.mayAct(), b.session.mayAct()];
      const refused = await c.api.request('GET', '/whoami').catch((e: Error) => e.message);
      let ticks = 0;
      a.api.poll(new AbortController().signal, 50, async () => void (ticks += 1));
      await new Promise((resolve) => setTimeout(resolve, 200));
      a.session.end();
      const ticksAtEnd = ticks;
      const afterEnd = await a.api.request('GET', '/whoami').catch((e: Error) => e.name);
      await new Promise((resolve) => setTimeout(resolve, 300));
      const stillB = await b.api.request<Who>('GET', '/whoami');
      return {
        names: [whoA!.name, whoB!.name, stillB.name],
        mayAct,
        refused,
        unauthorized,
        identities: [a.session.identity() ?? null, b.session.identity()?.role],
        afterEnd,
        ticksAfterEnd: ticks - ticksAtEnd,
        ticksAtEnd,
      };
    }, farmTokens);
    expect(seen.names).toEqual(['maintainer-user', 'reader-user', 'reader-user']);
    expect(seen.mayAct).toEqual([true, false]);
    expect(seen.refused).toMatch(/token/i);
    // Only the refused session's own handler heard its 401.
    expect(seen.unauthorized).toEqual({ maintainer: 0, reader: 0, stranger: 1 });
    // The ended session forgot its role, sends nothing more and polls no more; the other one is untouched.
    expect(seen.identities).toEqual([null, 'reader']);
    expect(seen.afterEnd).toBe('AbortError');
    expect(seen.ticksAtEnd).toBeGreaterThan(0);
    expect(seen.ticksAfterEnd).toBe(0);
    await page.close();
  });

  it('ends everything on sign-out; signed in again as a reader, only the reader token and rights', async () => {
    const token = farmTokens.maintainer;
    const id = (await inject(fx.app, 'POST', '/task', { token })).json<{ id: string }>().id;
    await inject(fx.app, 'PUT', `/task/${id}/build_bundle`, {
      token,
      body: await packTestBundle(path.join(dashboard.dir, 'bundles'), { name: 'session-waits' }),
    });
    await inject(fx.app, 'PUT', `/task/${id}/branch`, { token, body: 'stable' });
    expect((await inject(fx.app, 'PUT', `/task/${id}/build`, { token, body: {} })).statusCode).toBe(202);

    const page = await openPage();
    const sent: Array<{ request: Request; at: number }> = [];
    page.on('request', (request) => sent.push({ request, at: Date.now() }));
    const ended: string[] = [];
    const isLog = (r: Request): boolean => new URL(r.url()).pathname === `/task/${id}/log`;
    page.on('requestfailed', (r) => isLog(r) && ended.push('failed'));
    page.on('requestfinished', (r) => isLog(r) && ended.push('finished'));

    await signIn(page, farmTokens.maintainer);
    await page.goto(`${fx.coordinator.url}/#/task/${id}`);
    await page.getByRole('button', { name: 'Cancel' }).waitFor();
    await page.locator('.log-status[data-live="live"]').waitFor();

    await page.getByRole('button', { name: 'Sign out' }).click();
    const signedOut = Date.now();
    await page.getByLabel('Token').waitFor();
    expect(await page.evaluate('sessionStorage.length')).toBe(0);
    // Aborted at once; a minute only so that a stream left open fails here, not at the suite's deadline.
    await expect.poll(() => ended, { timeout: 60_000 }).toHaveLength(1);
    // Longer than the queue strip's poll (3 s), the page's (2 s) and the log's first reconnect (1 s).
    await new Promise((resolve) => setTimeout(resolve, 4_000));
    expect(sent.filter((s) => s.at > signedOut).map((s) => s.request.url())).toEqual([]);

    const readerFrom = sent.length;
    await signIn(page, farmTokens.reader);
    expect(await page.locator('header .who').textContent()).toContain('reader-user (reader)');
    await page.goto(`${fx.coordinator.url}/#/task/${id}`);
    await page.locator('.log-status[data-live="live"]').waitFor();
    await expect.poll(() => page.locator('.summary .facts').count()).toBe(1);
    expect(await page.locator('.actions button').count()).toBe(0);
    const auth = await Promise.all(sent.slice(readerFrom).map((s) => s.request.headerValue('authorization')));
    const api = auth.filter((a) => a !== null);
    expect(api.length).toBeGreaterThan(2);
    expect(new Set(api)).toEqual(new Set([`Bearer ${farmTokens.reader}`]));
    await page.close();
  });
});

async function signIn(page: Page, token: string): Promise<void> {
  await page.getByLabel('Token').fill(token);
  await page.getByRole('button', { name: 'Sign in' }).click();
  // Signed in on the page the address names (after a sign-out, the one left).
  await page.getByRole('button', { name: 'Sign out' }).waitFor();
}
