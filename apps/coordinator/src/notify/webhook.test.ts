import { createHmac, timingSafeEqual } from 'node:crypto';
import { once } from 'node:events';
import { writeFile } from 'node:fs/promises';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '@aoinb/testkit';
import { FarmHarness, farmTokens, postGroup, uploadTasks, waitForGroup, packTestBundle } from '@aoinb/farm-harness';

/**
 * Webhooks on a live farm: a real HTTP receiver on loopback gets the signed
 * messages (its first answer is a 500, so the retry is exercised), the HMAC is
 * checked the way docs/notifications.md tells receivers to, and `aoinb notify
 * test` reports each receiver's answer.
 */
const cli = fileURLToPath(new URL('../../../cli/bin/aoinb.js', import.meta.url));
const secret = 'webhook-secret-for-the-test';

interface Received {
  headers: IncomingHttpHeaders;
  body: string;
  json: Record<string, unknown> & { event: string; delivery: string };
}

function verified(r: Received): boolean {
  const expected = Buffer.from(`sha256=${createHmac('sha256', secret).update(r.body).digest('hex')}`);
  const got = Buffer.from(String(r.headers['x-aoinb-signature'] ?? ''));
  return got.length === expected.length && timingSafeEqual(got, expected);
}

describe('webhooks ([[notify.webhook]])', () => {
  let farm: FarmHarness;
  let receiver: Server;
  const received: Received[] = [];
  let refuseNext = 1;

  beforeAll(async () => {
    receiver = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        if (refuseNext > 0) {
          refuseNext -= 1;
          res.writeHead(500).end('not now');
          return;
        }
        received.push({ headers: req.headers, body, json: JSON.parse(body) as Received['json'] });
        res.writeHead(204).end();
      });
    });
    receiver.listen(0, '127.0.0.1');
    await once(receiver, 'listening');
    const port = (receiver.address() as AddressInfo).port;
    farm = await FarmHarness.create({ archs: ['amd64'], noarchArch: 'amd64' });
    const secretFile = path.join(farm.root, 'webhook.secret');
    await writeFile(secretFile, `${secret}\n`);
    farm.options.extraToml = [
      '[[notify.webhook]]',
      'name = "ci"',
      `url = "http://127.0.0.1:${port}/hook"`,
      `secret_file = ${JSON.stringify(secretFile)}`,
      'events = ["task_finished", "group_finished", "builder_offline"]',
      '[[notify.webhook]]',
      'name = "nobody-home"',
      `url = "http://127.0.0.1:${await freePort()}/hook"`,
      'events = ["group_finished"]',
      'attempts = 2',
    ].join('\n');
    await farm.startCoordinator();
    await farm.startWorker({ id: 'hook-worker', archs: ['amd64'] });
  });

  afterAll(async () => {
    await farm?.stop();
    receiver?.close();
  });

  const waitFor = async (what: string, match: (r: Received) => boolean, timeoutMs = 120_000): Promise<Received> => {
    let found: Received | undefined;
    await farm.waitFor(
      async () => (found = received.find(match)) !== undefined,
      timeoutMs,
      what,
      () => JSON.stringify(received.map((r) => r.json.summary)),
    );
    return found!;
  };

  it('POSTs a signed group_finished (after a refused first attempt) and a task_finished for each member', async () => {
    const pack = (name: string, defines: string[] = []): Promise<Buffer> =>
      packTestBundle(path.join(farm.root, 'bundles'), { name, defines, fake: { durationMs: 200 } });
    const tasks = await uploadTasks(farm, [await pack('hook-lib'), await pack('hook-app', ['BUILDDEP="hook-lib"'])]);
    const created = await postGroup(farm, { branch: 'stable', tasks });
    const groupId = (created.body as { id: string }).id;
    await waitForGroup(farm, groupId, ['succeeded']);
    const message = await waitFor('group_finished', (r) => r.json.event === 'group_finished');
    expect(verified(message)).toBe(true);
    expect(message.headers['x-aoinb-event']).toBe('group_finished');
    expect(message.headers['x-aoinb-delivery']).toBe(message.json.delivery);
    expect(message.headers['content-type']).toBe('application/json');
    const group = message.json.group as {
      id: string;
      state: string;
      counts: Record<string, number>;
      members: Array<{ package: string; state: string }>;
    };
    expect(group).toMatchObject({ id: groupId, state: 'succeeded' });
    expect(group.counts.succeeded).toBe(2);
    expect(group.members.map((m) => [m.package, m.state])).toEqual([
      ['hook-lib', 'succeeded'],
      ['hook-app', 'succeeded'],
    ]);
    expect(message.json.url).toBe(`${farm.coordinatorUrl}/#/group/${groupId}`);
    expect(message.json.summary).toBe(`Group ${groupId} (stable) succeeded: 2 succeeded`);
    for (const id of tasks) {
      const t = await waitFor(
        `task_finished ${id}`,
        (r) => r.json.event === 'task_finished' && (r.json.task as { id: string }).id === id,
      );
      expect(verified(t)).toBe(true);
      expect((t.json.task as { state: string; jobs: Array<Record<string, unknown>> }).jobs[0]).not.toHaveProperty(
        'resources',
      );
    }
    expect(refuseNext).toBe(0);
    // A body changed in transit no longer matches its signature.
    expect(verified({ ...message, body: message.body.replace('succeeded', 'failed') })).toBe(false);
  });

  it('tells when a builder goes offline', async () => {
    await farm.kill('hook-worker', 'SIGKILL');
    const message = await waitFor('builder_offline', (r) => r.json.event === 'builder_offline');
    expect(verified(message)).toBe(true);
    expect(message.json.builder).toMatchObject({ id: 'hook-worker', state: 'offline', arch_tags: ['amd64'] });
  });

  it('aoinb notify test reports each receiver, and fails when one is not reachable', async () => {
    const env = { ...process.env, AOINB_URL: farm.coordinatorUrl, AOINB_TOKEN: farmTokens.maintainer };
    const one = await execa(process.execPath, [cli, 'notify', 'test', '--webhook', 'ci'], { env, reject: false });
    expect(one.stdout).toBe('ci (json): delivered (HTTP 204)');
    expect(one.exitCode).toBe(0);
    const test = await waitFor('the test message', (r) => r.json.event === 'test');
    expect(verified(test)).toBe(true);
    expect(test.json.summary).toBe('Test message from the aoinb coordinator, sent by maintainer-user');
    const all = await execa(process.execPath, [cli, 'notify', 'test'], { env, reject: false });
    expect(all.stdout).toMatch(
      /^ci \(json\): delivered \(HTTP 204\)\nnobody-home \(json\): NOT delivered: .*ECONNREFUSED/,
    );
    expect(all.exitCode).toBe(1);
    const unknown = await farm.api('POST', '/notify/test', { webhook: 'nope' }, { token: farmTokens.maintainer });
    expect(unknown.status).toBe(404);
    expect(unknown.text).toContain('no webhook is named \\"nope\\" (configured: ci, nobody-home)');
    expect((await farm.api('POST', '/notify/test', {}, { token: farmTokens.worker })).status).toBe(403);
  });
});
