import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import { asFileFixture } from '../open-handles.ts';
import { startRedis, type RedisHandle } from '../redis-server.ts';

/**
 * A rig the tests share, started lazily in the first test's beforeEach through asFileFixture (as the
 * coordinator's service rig starts, for Stryker), for leak-check.test.ts: a child process, a listening server
 * and a Redis client from its start, and code of its own that opens a client and arms a long timer only after
 * the start returned. Its afterAll closes all but the server, which the file's check must still name.
 */
type Late = { client: Redis; timer: NodeJS.Timeout };
type Rig = { child: ChildProcess; server: Server; client: Redis; late: Promise<Late> };

let redis: RedisHandle;
let rig: Rig | undefined;
const leftovers: Array<() => unknown> = [];

async function startRig(): Promise<Rig> {
  const child = spawn('sleep', ['60'], { stdio: 'ignore' });
  const client = new Redis(redis.url);
  const late = new Promise<Late>((resolve) => {
    setTimeout(() => resolve({ client: new Redis(redis.url), timer: setTimeout(() => undefined, 60_000) }), 50);
  });
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { child, server, client, late };
}

beforeAll(async () => {
  redis = await startRedis();
});

beforeEach(async () => {
  rig ??= await asFileFixture(startRig);
});

afterAll(async () => {
  for (const close of leftovers) await close();
  if (rig) {
    rig.child.kill('SIGKILL');
    await once(rig.child, 'exit');
    rig.client.disconnect();
    const late = await rig.late;
    late.client.disconnect();
    clearTimeout(late.timer);
  }
  await redis.stop();
});

it("starts the shared rig; what the rig's code opens, then or later, is not the test's", async () => {
  const late = await rig!.late;
  expect(await late.client.ping()).toBe('PONG');
  expect(await rig!.client.ping()).toBe('PONG');
});

it('shares the rig started by the test before', async () => {
  expect(await rig!.client.ping()).toBe('PONG');
});

it('leaves a Redis client of its own beside the rig', async () => {
  const client = new Redis(redis.url);
  leftovers.push(() => client.disconnect());
  expect(await client.ping()).toBe('PONG');
});
