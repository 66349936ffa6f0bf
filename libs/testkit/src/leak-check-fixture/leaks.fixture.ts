import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startRedis, type RedisHandle } from '../redis-server.ts';

/**
 * Tests that leave things open on purpose, for leak-check.test.ts (not in the suite's include: run through
 * ./vitest.config.ts). What they leave is closed by the afterAll, so only the per-test check sees it.
 */
let redisServer: RedisHandle;
let sharedClient: Redis;
let httpServer: Server;
let url = '';
const leftovers: Array<() => unknown> = [];

beforeAll(async () => {
  redisServer = await startRedis();
  sharedClient = new Redis(redisServer.url);
  httpServer = createServer((_request, response) => response.end('ok')).listen(0, '127.0.0.1');
  await once(httpServer, 'listening');
  const address = httpServer.address();
  url = typeof address === 'object' && address ? `http://127.0.0.1:${address.port}/` : '';
});

afterAll(async () => {
  for (const close of leftovers) await close();
  sharedClient.disconnect();
  await redisServer.stop();
  httpServer.close();
});

it('leaves an interval running', () => {
  const loop = setInterval(() => undefined, 1000);
  leftovers.push(() => clearInterval(loop));
});

it('leaves a child process running', () => {
  const child: ChildProcess = spawn('sleep', ['60'], { stdio: 'ignore' });
  leftovers.push(async () => {
    child.kill('SIGKILL');
    await once(child, 'exit');
  });
});

it('leaves a Redis client connected', async () => {
  const client = new Redis(redisServer.url);
  leftovers.push(() => client.disconnect());
  expect(await client.ping()).toBe('PONG');
});

it('clears its interval, ends its child and closes its Redis client', async () => {
  const loop = setInterval(() => undefined, 1000);
  const child = spawn('sleep', ['60'], { stdio: 'ignore' });
  const client = new Redis(redisServer.url);
  await client.ping();
  clearInterval(loop);
  child.kill('SIGKILL');
  await once(child, 'exit');
  await client.quit();
});

it("uses the file's Redis client and leaves fetch's idle keep-alive socket in its pool", async () => {
  expect(await sharedClient.ping()).toBe('PONG');
  expect(await (await fetch(url)).text()).toBe('ok');
});
