import { createHash } from 'node:crypto';
import { Queue, type Job } from 'bullmq';
import { packBundle } from '@aoinb/bundle';
import { PROTOCOL_VERSION } from '@aoinb/farm-contract';
import { writeFakeBundle } from '@aoinb/testkit';
import {
  attemptKeyHash,
  buildJobId,
  buildJobName,
  buildQueueName,
  buildQueueOptions,
  FarmStore,
  type BuildJobData,
  newAttemptKey,
  type BuildNeeds,
} from '@aoinb/farm-protocol';
import type { StandinCoordinator } from './standin-coordinator.ts';

/**
 * A queued build as the coordinator leaves it: task and build records in Redis
 * (through the store's scripts), the BullMQ job on `build-<arch>`, and the
 * bundle served by the stand-in coordinator.
 */
export interface SeamFixture {
  store: FarmStore;
  queue(arch: string): Queue<BuildJobData>;
  queued(options: {
    name: string;
    arch?: string;
    /** `fake-build.json` of the bundle (durationMs, fail...). */
    fake?: Record<string, unknown>;
    patch?: Partial<BuildJobData>;
    /** Records and bundle only, no job of its own (a step of a sequence job). */
    noJob?: boolean;
    /** What a host needs to take the build (the coordinator writes it from ENVREQ and learned requirements). */
    needs?: BuildNeeds;
  }): Promise<{ job?: Job<BuildJobData>; data: BuildJobData }>;
  /**
   * Attempt 1 of a queued build claimed by `builder`, its report's fence passed (the settle mark set, 300 s): what a
   * job re-queued while that report publishes finds. `base` names the build for the store; `hash` is the attempt
   * key's, for the step that ends the build.
   */
  settling(
    data: BuildJobData,
    builder: string,
  ): Promise<{ base: { taskId: string; arch: string; archs: string[]; run: number }; hash: string }>;
  close(): Promise<void>;
}

export function seamFixture(options: {
  store: FarmStore;
  redisPort: number;
  coordinator: StandinCoordinator;
  dir: string;
}): SeamFixture {
  const queues = new Map<string, Queue<BuildJobData>>();
  const queue = (arch: string): Queue<BuildJobData> => {
    let q = queues.get(arch);
    if (!q) {
      q = new Queue<BuildJobData>(
        buildQueueName(arch),
        buildQueueOptions(
          { host: '127.0.0.1', port: options.redisPort },
          { keepCompletedJobs: 50, keepFailedJobs: 50 },
        ),
      );
      queues.set(arch, q);
    }
    return q;
  };
  return {
    store: options.store,
    queue,
    async queued({ name, arch = 'amd64', fake, patch, noJob, needs }) {
      const taskId = await options.store.nextTaskId();
      const archive = await packBundle(await writeFakeBundle(options.dir, { name, fake }));
      options.coordinator.bundles.set(taskId, archive);
      const now = new Date().toISOString();
      await options.store.createTask({
        id: taskId,
        state: 'created',
        createdAt: now,
        updatedAt: now,
        createdBy: 'seam-test',
        archs: [],
        timeoutMs: 0,
        branch: 'stable',
      });
      const jobId = buildJobId(taskId, arch, 1);
      const build = { taskId, arch, state: 'queued' as const, run: 1, jobId, attempt: 0, cancelRequested: false };
      const queuedOk = await options.store.queueBuilds({ id: taskId }, ['created'], [], { archs: [arch] }, [
        { ...build, queuedAt: now, artifacts: [], ...(needs ? { needs } : {}) },
      ]);
      if (queuedOk !== 'done') throw new Error(`seam fixture: could not queue task ${taskId}`);
      const data: BuildJobData = {
        protocol: PROTOCOL_VERSION,
        taskId,
        arch,
        run: 1,
        taskArchs: [arch],
        branch: 'stable',
        package: { name, version: '1.0-0', noarch: false },
        bundleSha256: createHash('sha256').update(archive).digest('hex'),
        bundleSize: archive.length,
        timeoutMs: 0,
        ...patch,
      };
      if (noJob) return { data };
      return { job: await queue(arch).add(buildJobName, data, { jobId }), data };
    },
    async settling(data, builder) {
      const base = { taskId: data.taskId, arch: data.arch, archs: [data.arch], run: 1 };
      const key = newAttemptKey(base);
      const set = { attemptKeyHash: key.hash, builder };
      await options.store.transition({ ...base, from: ['queued'], to: 'running', incrementAttempt: true, set });
      const hash = attemptKeyHash(key.key, base);
      const fenced = await options.store.fence(
        data.taskId,
        data.arch,
        { run: 1, attempt: 1, attemptKeyHash: hash },
        300_000,
      );
      if (fenced.refusal !== '')
        throw new Error(`seam fixture: the fence of task ${data.taskId} refused: ${fenced.refusal}`);
      return { base, hash };
    },
    async close() {
      await Promise.all([...queues.values()].map((q) => q.close()));
      queues.clear();
    },
  };
}
