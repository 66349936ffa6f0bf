import { Queue, type Job } from 'bullmq';
import { AoinbError } from '@aoinb/errors';
import {
  buildJobId,
  buildJobName,
  buildQueueName,
  buildQueueOptions,
  closeQueueConnection,
  farmPrefix,
  type BuildJobData,
  type FarmConnection,
  type RetentionSettings,
} from '@aoinb/farm-protocol';

/** The coordinator's handle on the build queues: one BullMQ queue per configured arch. */
export class Dispatcher {
  private readonly queues = new Map<string, Queue<BuildJobData>>();

  /** `prefix`: the farm's key prefix (`[redis] prefix`), which BullMQ's keys share. */
  constructor(connection: FarmConnection, archs: string[], retention: RetentionSettings, prefix = farmPrefix) {
    for (const arch of archs)
      this.queues.set(
        arch,
        new Queue<BuildJobData>(buildQueueName(arch), buildQueueOptions(connection, retention, prefix)),
      );
  }

  get archs(): string[] {
    return [...this.queues.keys()];
  }

  queue(arch: string): Queue<BuildJobData> {
    const queue = this.queues.get(arch);
    if (!queue)
      throw new AoinbError(
        'ARCH_NOT_ALLOWED',
        `arch ${arch} has no build queue (coordinator.archs is ${this.archs.join(', ')})`,
      );
    return queue;
  }

  /** Adds the job of one run of one arch. The job id is deterministic, so adding it twice is harmless. */
  async enqueue(data: BuildJobData, priority?: number): Promise<string> {
    const jobId = buildJobId(data.taskId, data.arch, data.run);
    await this.queue(data.arch).add(buildJobName, data, { jobId, ...(priority ? { priority } : {}) });
    return jobId;
  }

  async getJob(arch: string, jobId: string): Promise<Job<BuildJobData> | undefined> {
    return (await this.queue(arch).getJob(jobId)) ?? undefined;
  }

  /** Removes a job that no worker holds; false when it is locked by one (or gone). */
  async removeIfIdle(arch: string, jobId: string): Promise<boolean> {
    try {
      return (await this.queue(arch).remove(jobId)) === 1;
    } catch {
      return false;
    }
  }

  async counts(): Promise<Record<string, Record<string, number>>> {
    const out: Record<string, Record<string, number>> = {};
    for (const [arch, queue] of this.queues)
      out[arch] = await queue.getJobCounts('waiting', 'active', 'completed', 'failed', 'delayed', 'prioritized');
    return out;
  }

  async close(): Promise<void> {
    await Promise.all(
      [...this.queues.values()].map(async (q) => (await q.close(), closeQueueConnection(q.opts.connection))),
    );
  }
}
