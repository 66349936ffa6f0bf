import path from 'node:path';
import type { LightMyRequestResponse } from 'fastify';
import { describe, expect, it } from 'vitest';
import { farmTokens, packTestBundle } from '@aoinb/farm-harness';
import { inject, useInjectFixture } from '../../test-support/inject-fixture.ts';

/**
 * Asking for a build network by inject(): refused (403 NETWORK_NOT_ALLOWED,
 * naming the token and the rule) unless `[coordinator] network_builds` lets
 * the token ask; when allowed, the task and its jobs carry it, the status
 * shows it, and a retry asks again under the policy of the day.
 */
describe('build networks through the API', () => {
  const trusted = 'net-maintainer-token-0123456789';
  const fx = useInjectFixture({ archs: ['amd64'] }, (config) => {
    config.farm.coordinator.networkBuilds = 'admin';
    config.farm.tokens.push({ name: 'trusted', role: 'maintainer', token: trusted, networkBuilds: true });
  });

  const call = (method: 'GET' | 'POST' | 'PUT', url: string, token: string, body?: unknown) =>
    inject(fx.app, method, url, { token, body });

  /** A task with a bundle and a branch, not built yet. */
  async function readyTask(name: string): Promise<string> {
    const { id } = (await call('POST', '/task', farmTokens.maintainer)).json<{ id: string }>();
    const archive = await packTestBundle(path.join(fx.farm.root, 'bundles'), { name });
    expect((await call('PUT', `/task/${id}/build_bundle`, farmTokens.maintainer, archive)).statusCode).toBe(201);
    expect((await call('PUT', `/task/${id}/branch`, farmTokens.maintainer, 'stable')).statusCode).toBe(200);
    return id;
  }

  const refusal = (res: LightMyRequestResponse) => res.json<{ error: { code: string; message: string } }>().error;

  it('refuses a token the policy does not name, with 403 NETWORK_NOT_ALLOWED; the task stays unbuilt', async () => {
    const id = await readyTask('net-refused');
    const res = await call('PUT', `/task/${id}/build`, farmTokens.maintainer, { network: true });
    expect(res.statusCode).toBe(403);
    expect(refusal(res)).toEqual({
      code: 'NETWORK_NOT_ALLOWED',
      message: `token maintainer-user (maintainer) may not ask for a build network for task ${id}: [coordinator] network_builds = "admin" lets only admin tokens and tokens marked network_builds = true ask; fetch what the build needs as sources in spec instead`,
    });
    const status = (await call('GET', `/task/${id}/status`, farmTokens.reader)).json<{
      state: string;
      network: boolean;
    }>();
    expect(status).toMatchObject({ state: 'created', network: false });
    const bad = await call('PUT', `/task/${id}/build`, farmTokens.maintainer, { network: 'yes' });
    expect(bad.statusCode).toBe(400);
    expect(refusal(bad).message).toMatch(/network/);
    // Without the network the same token builds it.
    expect((await call('PUT', `/task/${id}/build`, farmTokens.maintainer, {})).statusCode).toBe(202);
    const job = await fx.coordinator.context.dispatcher.getJob('amd64', `t${id}-amd64-r1`);
    expect(job?.data.network).toBeUndefined();
  });

  it('builds with a network for a marked token and an admin: the task, its job and its status say so', async () => {
    for (const token of [trusted, farmTokens.admin]) {
      const id = await readyTask('net-allowed');
      expect((await call('PUT', `/task/${id}/build`, token, { network: true })).statusCode).toBe(202);
      const status = (await call('GET', `/task/${id}/status`, farmTokens.reader)).json<{ network: boolean }>();
      expect(status.network).toBe(true);
      const listed = (await call('GET', '/task?limit=5', farmTokens.reader)).json<{
        tasks: Array<{ id: string; network: boolean }>;
      }>();
      expect(listed.tasks.find((t) => t.id === id)?.network).toBe(true);
      const job = await fx.coordinator.context.dispatcher.getJob('amd64', `t${id}-amd64-r1`);
      expect(job?.data).toMatchObject({ taskId: id, network: true });
    }
  });

  it('asks again on retry: a policy tightened to "never" refuses the new run, even for an admin', async () => {
    const id = await readyTask('net-retry');
    expect((await call('PUT', `/task/${id}/build`, farmTokens.admin, { network: true })).statusCode).toBe(202);
    const { store } = fx.coordinator.context;
    await store.transition({
      taskId: id,
      arch: 'amd64',
      run: 1,
      archs: ['amd64'],
      from: ['queued'],
      to: 'failed',
      set: { reason: 'test' },
    });
    fx.config.farm.coordinator.networkBuilds = 'never';
    try {
      const res = await call('POST', `/task/${id}/retry`, farmTokens.admin);
      expect(res.statusCode).toBe(403);
      expect(refusal(res).message).toContain(
        'this coordinator runs no builds with a network ([coordinator] network_builds = "never")',
      );
      fx.config.farm.coordinator.networkBuilds = 'any-submitter';
      expect((await call('POST', `/task/${id}/retry`, farmTokens.maintainer)).statusCode).toBe(202);
      const job = await fx.coordinator.context.dispatcher.getJob('amd64', `t${id}-amd64-r2`);
      expect(job?.data.network).toBe(true);
    } finally {
      fx.config.farm.coordinator.networkBuilds = 'admin';
    }
  });

  it('takes network for a whole group or one member, under the same policy', async () => {
    const [a, b] = [await readyTask('net-group-a'), await readyTask('net-group-b')];
    const refused = await call('POST', '/group', farmTokens.maintainer, {
      branch: 'stable',
      tasks: [a, b],
      network: true,
    });
    expect(refused.statusCode).toBe(403);
    expect(refusal(refused)).toMatchObject({
      code: 'NETWORK_NOT_ALLOWED',
      message: expect.stringContaining(`for the group's tasks ${a}, ${b}:`),
    });
    const created = await call('POST', '/group', trusted, {
      branch: 'stable',
      tasks: [a, { id: b, network: false }],
      network: true,
    });
    expect(created.statusCode, created.body).toBe(201);
    const { id } = created.json<{ id: string }>();
    const status = (await call('GET', `/group/${id}/status`, farmTokens.reader)).json<{
      members: Array<{ task_id: string; network: boolean }>;
    }>();
    expect(Object.fromEntries(status.members.map((m) => [m.task_id, m.network]))).toEqual({ [a]: true, [b]: false });
    const member = (await call('GET', `/task/${a}/status`, farmTokens.reader)).json<{ network: boolean }>();
    expect(member.network).toBe(true);
  });
});
