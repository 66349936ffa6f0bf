import { readdir, readFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FarmHarness, farmTokens, packTestBundle, postGroup, uploadTasks, waitForGroup } from '@aoinb/farm-harness';
import { farmDeadlineMs } from '@aoinb/farm-harness';
import { freePort } from '@aoinb/testkit';

/**
 * A TCP balancer in front of the coordinators, as nginx's upstream in
 * deploy/nginx/ would be: each connection goes to the next backend, and to
 * the one after it when that one does not accept (it died).
 */
async function startBalancer(port: number, backends: number[]): Promise<net.Server> {
  let next = 0;
  const server = net.createServer((client) => {
    client.pause();
    client.on('error', () => client.destroy());
    const attempt = (left: number): void => {
      const backend = backends[next++ % backends.length] as number;
      const upstream = net.connect(backend, '127.0.0.1');
      const refused = (): void => (left > 1 ? attempt(left - 1) : void client.destroy());
      upstream.once('error', refused);
      upstream.once('connect', () => {
        upstream.off('error', refused);
        upstream.on('error', () => client.destroy());
        upstream.once('close', () => client.destroy());
        client.once('close', () => upstream.destroy());
        client.pipe(upstream).pipe(client);
        client.resume();
      });
    };
    attempt(backends.length);
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return server;
}

/**
 * Two coordinator processes on one redis-server and one storage folder,
 * behind one address, with two workers (fake executor): a batch of builds and
 * a group submitted half to each coordinator, the one holding the leases
 * killed mid-run. Every build is done once and published once, every log ends
 * and is archived once, and the other coordinator takes the leases over.
 */
describe('two coordinators against one Redis and one storage folder', () => {
  let farm: FarmHarness;
  let redis: Redis;
  let balancer: net.Server;
  const ports: Record<string, number> = {};
  const maintainer = { token: farmTokens.maintainer };
  const url = (name: string): string => `http://127.0.0.1:${ports[name]}`;

  beforeAll(async () => {
    const front = await freePort();
    farm = await FarmHarness.create({
      archs: ['amd64'],
      publicUrl: `http://127.0.0.1:${front}`,
      leaseSeconds: 3,
      reconcileIntervalSeconds: 1,
    });
    ports.c1 = Number(new URL(farm.coordinatorUrl).port);
    ports.c2 = await freePort();
    await farm.startCoordinator('c1', ports.c1);
    await farm.startCoordinator('c2', ports.c2);
    balancer = await startBalancer(front, [ports.c1, ports.c2]);
    redis = new Redis(farm.redis.url);
    await farm.startWorker({ id: 'w1', archs: ['amd64'], slots: 2, fakeDurationMs: 3000 });
    await farm.startWorker({ id: 'w2', archs: ['amd64'], slots: 2, fakeDurationMs: 3000 });
  });
  afterAll(async () => {
    redis?.disconnect();
    await new Promise((resolve) => balancer?.close(resolve));
    await farm?.stop();
  });

  const via = async <T>(name: string, use: () => Promise<T>): Promise<T> => {
    const before = farm.coordinatorUrl;
    farm.coordinatorUrl = url(name);
    try {
      return await use();
    } finally {
      farm.coordinatorUrl = before;
    }
  };

  it('creates one task for identical Idempotency-Key requests sent to both coordinators at once', async () => {
    const before = await redis.zcard('{aoinb}:tasks');
    const answers = await Promise.all(
      Array.from({ length: 16 }, (_, i) =>
        fetch(`${url(i % 2 ? 'c1' : 'c2')}/task`, {
          method: 'POST',
          headers: { authorization: `Bearer ${farmTokens.maintainer}`, 'idempotency-key': 'two-coordinators' },
        }).then(async (res) => ({ status: res.status, body: (await res.json()) as { id?: string } })),
      ),
    );
    expect(await redis.zcard('{aoinb}:tasks')).toBe(before + 1);
    const ids = new Set(answers.filter((a) => a.status === 201).map((a) => a.body.id));
    expect(ids.size).toBe(1);
    expect(answers.every((a) => a.status === 201 || a.status === 409)).toBe(true);
  });

  it('builds and publishes each task once, ends and archives each log once, with the lease holder killed', async () => {
    const pack = (name: string, defines: string[] = []) =>
      packTestBundle(path.join(farm.root, 'bundles'), { name, defines, fake: { durationMs: 3000 } });
    const singles: string[] = [];
    for (let i = 0; i < 8; i += 1) {
      const archive = await pack(`solo${i}`);
      singles.push(await via(i % 2 ? 'c1' : 'c2', () => farm.submit(archive)));
    }
    const groupTasks = await via('c2', async () =>
      uploadTasks(farm, [await pack('glib'), await pack('gapp', ['BUILDDEP="glib"'])]),
    );
    const created = await via('c1', () => postGroup(farm, { branch: 'stable', tasks: groupTasks }));
    expect(created.status).toBe(201);
    const groupId = (created.body as { id: string }).id;

    // Kill, mid-run, the coordinator that holds the reconcile lease (its pid is in the holder id).
    await farm.waitFor(
      async () => (await redis.get('{aoinb}:reconcile:lease')) !== null,
      farmDeadlineMs,
      'a reconcile lease',
    );
    const states = async (): Promise<string[]> =>
      Promise.all([...singles, ...groupTasks].map(async (id) => (await farm.status(id)).state));
    await farm.waitFor(async () => (await states()).includes('running'), farmDeadlineMs, 'a build to run');
    const holder = (await redis.get('{aoinb}:reconcile:lease')) as string;
    const victim = [...farm.processes.values()].find((p) => holder.includes(`:${p.child.pid}:`))!;
    expect(['c1', 'c2']).toContain(victim.name);
    const survivor = victim.name === 'c1' ? 'c2' : 'c1';
    await farm.kill(victim.name, 'SIGKILL');
    farm.coordinatorUrl = url(survivor);

    for (const id of singles) await farm.waitForState(id, ['succeeded', 'failed', 'cancelled']);
    const group = await waitForGroup(farm, groupId, ['succeeded', 'failed', 'partial']);
    expect(group.state).toBe('succeeded');
    // The survivor holds the leases now.
    const survivorPid = farm.processes.get(survivor)!.child.pid;
    expect(await redis.get('{aoinb}:reconcile:lease')).toContain(`:${survivorPid}:`);

    const all = [...singles, ...groupTasks];
    for (const id of all) {
      const status = await farm.status(id);
      expect(status.state, `task ${id}`).toBe('succeeded');
      expect(status.jobs.map((b) => [b.state, b.run])).toEqual([['succeeded', 1]]);
      // The log ends with the final state, once.
      const entries = await redis.xrange(`{aoinb}:log:${id}:amd64:1`, '-', '+');
      const ends = entries.filter(([, fields]) => fields[0] === 'eof');
      expect(ends.map(([, fields]) => fields[1])).toEqual(['succeeded']);
      expect((await farm.api('GET', `/task/${id}/log?arch=amd64`, undefined, maintainer)).status).toBe(200);
    }
    // Published once: each package once in the branch's index.
    const packages = await readFile(path.join(farm.storageDir, 'output/stable/Packages'), 'utf8');
    const names = [...packages.matchAll(/^Package: (.+)$/gm)].map((m) => m[1]);
    expect(names.sort()).toEqual(['gapp', 'glib', ...Array.from({ length: 8 }, (_, i) => `solo${i}`)].sort());
    // Every log archived, once, and no half-written archive or index is left.
    await farm.waitFor(
      async () => (await redis.scard('{aoinb}:logs:unarchived')) === 0,
      farmDeadlineMs,
      'every archive',
    );
    for (const id of all) {
      expect(await readdir(path.join(farm.storageDir, 'logs', id))).toEqual(['amd64-r1.log']);
      expect(await redis.pttl(`{aoinb}:log:${id}:amd64:1`)).toBeGreaterThan(0);
    }
    const output = await readdir(path.join(farm.storageDir, 'output/stable'));
    const temps = await readdir(path.join(farm.storageDir, 'output/stable/.tmp')).catch(() => []);
    expect([...output, ...temps].filter((f) => f.includes('.tmp-'))).toEqual([]);
  });
});
