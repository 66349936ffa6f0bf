import { Queue, Worker, type Job } from 'bullmq';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startRedis, type RedisHandle } from '@aoinb/testkit';
import { promoteToHead } from './queue-position.ts';

/**
 * Where a handed-back job goes in its BullMQ queue, on a real Redis: a worker took it from the
 * head, so that is where it belongs. `moveToWait` (an active job handed back) and promoteToHead
 * (a parked, delayed job brought back by the placement loop) put it there; `promote()` alone
 * puts it behind every job queued meanwhile.
 */
describe('a job handed back keeps its place in its queue', () => {
  let server: RedisHandle;
  let queues = 0;
  const open: Array<{ close(): Promise<void> }> = [];

  beforeAll(async () => {
    server = await startRedis();
  });
  // Each test's queues and workers are its own (the per-test leak check).
  afterEach(async () => {
    for (const o of open.splice(0)) await o.close();
  });
  afterAll(async () => {
    await server?.stop();
  });

  const connection = () => ({ host: '127.0.0.1', port: server.port });

  function newQueue(): Queue {
    const queue = new Queue(`order-${++queues}`, { connection: connection() });
    open.push(queue);
    return queue;
  }

  /** Takes the head of the queue as a worker does, and returns it with its lock token. */
  async function takeHead(queue: Queue): Promise<{ job: Job; token: string }> {
    const worker = new Worker(queue.name, null, { connection: connection(), autorun: false });
    open.push(worker);
    const token = `take-${queue.name}`;
    const job: Job | undefined = await worker.getNextJob(token);
    if (!job) throw new Error(`queue ${queue.name} is empty`);
    return { job, token };
  }

  /** Hands the head back for placement, parked (delayed) as a worker does when no able host is free. */
  async function parkHead(queue: Queue): Promise<Job> {
    const { job, token } = await takeHead(queue);
    await job.moveToDelayed(Date.now() + 600_000, token);
    return job;
  }

  /** The names of the jobs in the order one worker processes them. */
  async function processingOrder(queue: Queue, count: number): Promise<string[]> {
    const order: string[] = [];
    let done: () => void = () => undefined;
    const all = new Promise<void>((resolve) => (done = resolve));
    const worker = new Worker(
      queue.name,
      async (job) => {
        order.push(job.name);
        if (order.length === count) done();
      },
      { connection: connection(), concurrency: 1 },
    );
    open.push(worker);
    await all;
    await worker.close();
    return order;
  }

  const add = (queue: Queue, names: string[], priority?: number) =>
    Promise.all(names.map((n) => queue.add(n, {}, priority ? { priority } : {})));

  it('an active job handed back with moveToWait is first again', async () => {
    const queue = newQueue();
    for (const n of ['handed-back', 'w1', 'w2']) await add(queue, [n]);
    const { job, token } = await takeHead(queue);
    await add(queue, ['w3']);
    await job.moveToWait(token);
    expect(await processingOrder(queue, 4)).toEqual(['handed-back', 'w1', 'w2', 'w3']);
  });

  it('a parked job brought back by promoteToHead is first again; promote() alone sends it to the end', async () => {
    const queue = newQueue();
    for (const n of ['parked', 'w1', 'w2']) await add(queue, [n]);
    const parked = await parkHead(queue);
    await add(queue, ['w3']);
    expect(await promoteToHead(parked)).toBe(true);
    expect(await promoteToHead(parked)).toBe(false);
    expect(await processingOrder(queue, 4)).toEqual(['parked', 'w1', 'w2', 'w3']);

    const plain = newQueue();
    for (const n of ['parked', 'w1', 'w2']) await add(plain, [n]);
    await (await parkHead(plain)).promote();
    expect(await processingOrder(plain, 3)).toEqual(['w1', 'w2', 'parked']);
  });

  // The placement loop and the parking host race: the job may leave the delayed set (another promote, its
  // delay running out, a removal) after any check the caller made. Such a job is simply not brought back.
  it('answers false, not an error, for a job brought back or removed by someone else', async () => {
    const queue = newQueue();
    for (const n of ['parked', 'gone', 'w1']) await add(queue, [n]);
    const parked = await parkHead(queue);
    const gone = await parkHead(queue);
    // Stale handles, as a caller holds them after its own check.
    const [staleParked, staleGone] = await Promise.all([parked, gone].map((j) => queue.getJob(j.id!)));
    await parked.promote();
    await gone.remove();
    expect(await promoteToHead(staleParked!)).toBe(false);
    expect(await promoteToHead(staleGone!)).toBe(false);
    expect(await processingOrder(queue, 2)).toEqual(['w1', 'parked']);
  });

  it('keeps the order of several parked jobs brought back newest first', async () => {
    const queue = newQueue();
    for (const n of ['older', 'newer', 'w1']) await add(queue, [n]);
    const older = await parkHead(queue);
    const newer = await parkHead(queue);
    await add(queue, ['w2']);
    for (const job of [newer, older]) await promoteToHead(job);
    expect(await processingOrder(queue, 4)).toEqual(['older', 'newer', 'w1', 'w2']);
  });

  it('keeps a prioritized job first among its priority, behind a higher priority', async () => {
    const queue = newQueue();
    for (const n of ['parked', 'p1', 'p2']) await add(queue, [n], 5);
    const parked = await parkHead(queue);
    await add(queue, ['p3'], 5);
    await add(queue, ['urgent'], 1);
    await promoteToHead(parked);
    expect(await processingOrder(queue, 5)).toEqual(['urgent', 'parked', 'p1', 'p2', 'p3']);
  });
});
