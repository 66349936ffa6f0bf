import { chmod } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useTempDir } from '@aoinb/testkit/fixtures';
import { FarmHarness, farmTokens } from '@aoinb/farm-harness';
import { freePort, writeFakeBundle } from '@aoinb/testkit';
import { followLog, request, startNginxFront, type NginxFront } from './nginx-front.ts';

const cli = fileURLToPath(new URL('../../apps/cli/bin/aoinb.js', import.meta.url));
const maintainer = farmTokens.maintainer;

/** A bundle folder on the fake executor: `lines` log lines, one a second, each ending ` t=<epoch ms written>`. */
const writeBundle = (root: string, name: string, lines: number): Promise<string> =>
  writeFakeBundle(root, { name, fake: { durationMs: lines * 1000, lines, linesPerSecond: 1, timestamps: true } });

/**
 * Debian's nginx with deploy/nginx/aoinb-coordinators.conf (ports and certificate paths substituted) in
 * front of two coordinator processes on one redis-server and one storage folder, and a worker whose
 * `public_url` is nginx's address: a maintainer's `aoinb submit` and `aoinb logs -f` go through it, the
 * live log arrives line by line (buffering off), and with one coordinator SIGKILLed the address still
 * answers, a new build goes through, and a follower of a running build reaches its end.
 */
describe('deploy/nginx/aoinb-coordinators.conf in front of two coordinators', () => {
  let farm: FarmHarness;
  let front: NginxFront;
  const root = useTempDir('aoinb-nginx-');
  let env: Record<string, string>;
  const extraCaBefore = process.env.NODE_EXTRA_CA_CERTS;

  beforeAll(async () => {
    await chmod(root.dir, 0o755);
    const port = await freePort();
    farm = await FarmHarness.create({
      archs: ['amd64'],
      publicUrl: `https://127.0.0.1:${port}`,
      leaseSeconds: 3,
      reconcileIntervalSeconds: 1,
    });
    const c1 = Number(new URL(farm.coordinatorUrl).port);
    const c2 = await freePort();
    await farm.startCoordinator('c1', c1);
    await farm.startCoordinator('c2', c2);
    front = await startNginxFront(path.join(root.dir, 'nginx'), [c1, c2], port);
    // The worker and the CLI reach the farm through nginx's TLS only: they trust its certificate.
    process.env.NODE_EXTRA_CA_CERTS = path.join(root.dir, 'nginx/cert.pem');
    env = { AOINB_URL: `https://127.0.0.1:${port}`, AOINB_TOKEN: maintainer, NO_COLOR: '1' };
    await farm.startWorker({ id: 'w1', archs: ['amd64'], slots: 2 });
  });
  afterAll(async () => {
    if (extraCaBefore === undefined) delete process.env.NODE_EXTRA_CA_CERTS;
    else process.env.NODE_EXTRA_CA_CERTS = extraCaBefore;
    await front?.stop();
    await farm?.stop();
  });

  const aoinb = (args: string[]) => execa(process.execPath, [cli, ...args], { env, reject: false, all: true });
  const submitNoWait = async (name: string, lines: number): Promise<string> => {
    const run = await aoinb([
      'submit',
      await writeBundle(root.dir, name, lines),
      '--branch',
      'stable',
      '--no-wait',
      '--json',
    ]);
    expect(run.exitCode, run.all).toBe(0);
    return (JSON.parse(run.stdout) as Array<{ id: string }>)[0]!.id;
  };

  it('takes a submission through it and streams its live log unbuffered', async () => {
    const id = await submitNoWait('front-a', 8);
    const follower = aoinb(['logs', id, '-f']);
    const followed = await followLog(front, id, maintainer).catch((error: unknown) => {
      follower.kill();
      throw error;
    });
    const logs = await follower;
    expect(JSON.parse(followed.end)).toMatchObject({ state: 'succeeded' });
    expect(followed.headers['content-type']).toMatch(/^text\/event-stream/);
    // Lines written a second apart arrive as they are written: nginx passes each event on as it comes. Judged on the
    // lines written after the first one arrived (the follower may connect late, and get what was before at once):
    // the first of them arrives before the last of them is written, which a buffered stream (all at the end) cannot.
    expect(followed.lines.length).toBeGreaterThanOrEqual(8);
    const live = writtenAt(followed.lines).filter((l) => l.written > followed.lines[0]!.at);
    expect(live.length, JSON.stringify(followed.lines)).toBeGreaterThanOrEqual(2);
    expect(live[0]!.at, JSON.stringify(live)).toBeLessThan(live.at(-1)!.written);
    expect(logs.exitCode, logs.all).toBe(0);
    for (const { line } of followed.lines) expect(logs.stdout).toContain(line);
    const status = await request(front, 'GET', `/task/${id}/status`, { token: maintainer });
    expect(JSON.parse(status.text)).toMatchObject({ state: 'succeeded' });
    const packages = await request(front, 'GET', '/repo/stable/Packages');
    expect(packages.status, packages.text).toBe(200);
    expect(packages.text).toContain('Package: front-a');
  });

  it('keeps answering at the same address with one coordinator SIGKILLed', async () => {
    const running = await submitNoWait('front-b', 10);
    const follower = aoinb(['logs', running, '-f']);
    await farm.waitForState(running, ['running']);
    await farm.kill('c1', 'SIGKILL');
    // Round robin: one of two creates meets the dead coordinator first (refused, never sent: nginx passes it on).
    for (let i = 0; i < 2; i++) {
      const created = await request(front, 'POST', '/task', { token: maintainer, body: '{"branch":"stable"}' });
      expect(created.status, created.text).toBe(201);
      const id = (JSON.parse(created.text) as { id: string }).id;
      expect((await request(front, 'DELETE', `/task/${id}`, { token: maintainer })).status).toBe(200);
    }
    for (let i = 0; i < 10; i++) {
      expect((await request(front, 'GET', '/healthz')).status).toBe(200);
      const listed = await request(front, 'GET', '/task?limit=5', { token: maintainer });
      expect(listed.status, listed.text).toBe(200);
    }
    const next = await aoinb(['submit', await writeBundle(root.dir, 'front-c', 2), '--branch', 'stable']);
    expect(next.exitCode, next.all).toBe(0);
    const followed = await follower;
    expect(followed.exitCode, followed.all).toBe(0);
    const status = await request(front, 'GET', `/task/${running}/status`, { token: maintainer });
    expect(JSON.parse(status.text)).toMatchObject({ state: 'succeeded' });
    expect(front.output()).not.toMatch(/\[emerg\]/);
  });
});

/** The fake build's lines with the time each was written (its ` t=<epoch ms>`), in the order they arrived. */
function writtenAt(lines: Array<{ at: number; line: string }>): Array<{ at: number; written: number }> {
  return lines.flatMap(({ at, line }) => {
    const t = / t=(\d+(?:\.\d+)?)$/.exec(line);
    return t ? [{ at, written: Number(t[1]) }] : [];
  });
}
