import { Queue, Worker, type Job } from 'bullmq';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { PROTOCOL_VERSION, type BuildJobData } from '@aoinb/farm-contract';
import { startRedis, type RedisHandle } from '@aoinb/testkit';
import { refuseOtherProtocol } from './protocol-guard.ts';

function jobData(protocol: number | undefined): BuildJobData {
  const data: BuildJobData = {
    protocol: protocol ?? 0,
    taskId: '1',
    arch: 'amd64',
    run: 1,
    taskArchs: ['amd64'],
    branch: 'stable',
    package: { name: 'demo', version: '1.0', noarch: false },
    bundleSha256: '0'.repeat(64),
    bundleSize: 1,
    timeoutMs: 0,
  };
  if (protocol === undefined) delete (data as Partial<BuildJobData>).protocol;
  return data;
}

/** A real BullMQ worker on a real Redis, with the guard in front of its processor. */
describe('a job of another protocol version', () => {
  let redis: RedisHandle;
  let queue: Queue<BuildJobData>;
  let worker: Worker<BuildJobData>;
  const lines: Array<Record<string, unknown>> = [];
  const ran: string[] = [];

  beforeAll(async () => {
    redis = await startRedis();
    const connection = { host: '127.0.0.1', port: redis.port, maxRetriesPerRequest: null };
    queue = new Queue('build-amd64', { connection });
  });
  // The worker is each test's own: its loops (stalled check, lock renewal) start with its first job.
  beforeEach(async () => {
    const connection = { host: '127.0.0.1', port: redis.port, maxRetriesPerRequest: null };
    const logger = pino({ level: 'info' }, { write: (line: string) => lines.push(JSON.parse(line)) });
    worker = new Worker<BuildJobData>(
      'build-amd64',
      async (job: Job<BuildJobData>, token?: string) => {
        await refuseOtherProtocol(job, token, logger);
        ran.push(job.id ?? '');
        return 'built';
      },
      { connection },
    );
    await worker.waitUntilReady();
  });
  afterEach(async () => {
    await worker?.close();
  });
  afterAll(async () => {
    await queue?.close();
    await redis?.stop();
  });

  it('is handed back to the queue unrun, delayed for a worker of the right version, with a log line', async () => {
    for (const [id, protocol] of [
      ['newer', PROTOCOL_VERSION + 1],
      ['unversioned', undefined],
    ] as const) {
      await queue.add('build', jobData(protocol), { jobId: id });
      await expect.poll(async () => queue.getJobState(id), { timeout: 120_000 }).toBe('delayed');
      const line = lines.find((l) => l.jobId === id);
      expect(line?.msg).toBe(
        [
          `job ${id} was queued for protocol version ${protocol ?? '(none)'};`,
          `this worker speaks version ${PROTOCOL_VERSION}: handed back to the queue unrun`,
          '(upgrade this worker or the coordinator so they match)',
        ].join(' '),
      );
      expect((await queue.getJob(id))?.attemptsMade).toBe(0);
    }
    expect(ran).toEqual([]);
  });

  it('runs a job of this version', async () => {
    await queue.add('build', jobData(PROTOCOL_VERSION), { jobId: 'same' });
    await expect.poll(async () => queue.getJobState('same'), { timeout: 120_000 }).toBe('completed');
    expect(ran).toEqual(['same']);
  });
});
