import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FarmHarness, farmTokens } from '@aoinb/farm-harness';

/** What the dashboard needs from the API beyond the CLI's routes, and how its files are served. */
describe('dashboard routes', () => {
  let farm: FarmHarness;
  beforeAll(async () => {
    farm = await FarmHarness.create({ archs: ['amd64', 'arm64'], noarchArch: 'amd64' });
    await farm.startCoordinator();
  });
  afterAll(async () => {
    await farm?.stop();
  });

  it('GET /task?submitter= keeps the tasks of that token name only', async () => {
    await farm.api('POST', '/task', undefined, { token: farmTokens.maintainer });
    await farm.api('POST', '/task', undefined, { token: farmTokens.admin });
    const mine = (await farm.api('GET', '/task?submitter=maintainer-user')).body as {
      tasks: Array<{ created_by: string }>;
    };
    expect(mine.tasks.map((t) => t.created_by)).toEqual(['maintainer-user']);
    const none = (await farm.api('GET', '/task?submitter=nobody')).body as { tasks: unknown[] };
    expect(none.tasks).toEqual([]);
    expect(((await farm.api('GET', '/task')).body as { tasks: unknown[] }).tasks).toHaveLength(2);
  });

  it('GET /whoami, /farm and /queue answer any token, and nobody without one', async () => {
    expect((await farm.api('GET', '/whoami', undefined, { token: farmTokens.worker })).body).toEqual({
      name: 'worker-user',
      role: 'worker',
    });
    expect((await farm.api('GET', '/whoami', undefined, { token: null })).status).toBe(401);
    expect((await farm.api('GET', '/farm')).body).toMatchObject({
      archs: ['amd64', 'arm64'],
      noarch_arch: 'amd64',
      grafana_url: null,
    });
    expect((await farm.api('GET', '/queue')).body).toEqual({
      queues: [
        { arch: 'amd64', waiting: 0, active: 0, failed: 0, completed: 0 },
        { arch: 'arm64', waiting: 0, active: 0, failed: 0, completed: 0 },
      ],
    });
  });

  it('serves the built page without a token, with a strict CSP, and nothing outside its folder', async () => {
    const page = await fetch(`${farm.coordinatorUrl}/`);
    const html = await page.text();
    expect(page.status, 'run `npm run build` first').toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    const script = /src="(\/assets\/app-[A-Z0-9]+\.js)"/.exec(html)?.[1];
    expect(script).toBeDefined();
    const js = await fetch(`${farm.coordinatorUrl}${script}`);
    expect(js.status).toBe(200);
    expect(js.headers.get('cache-control')).toContain('immutable');
    for (const bad of [
      '/assets/..%2Findex.html',
      '/assets/..%2F..%2Fpackage.json',
      '/assets/.hidden.js',
      '/assets/missing.js',
    ]) {
      const res = await fetch(`${farm.coordinatorUrl}${bad}`);
      expect(res.status, bad).toBe(404);
      expect(await res.text()).not.toContain('/work');
    }
  });
});
