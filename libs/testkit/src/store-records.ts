import { buildJobId, type BuildRecord, type BundleInfo, type FarmStore, type TaskRecord } from '@aoinb/farm-protocol';

/** A task record as `POST /task` leaves it (created, no archs, no timeout), with `fields` on top. */
export function testTask(id: string, fields: Partial<TaskRecord> = {}): TaskRecord {
  const now = new Date().toISOString();
  return {
    id,
    state: 'created',
    createdAt: now,
    updatedAt: now,
    createdBy: 'alice',
    archs: [],
    timeoutMs: 0,
    ...fields,
  };
}

/** A build record as `PUT /task/:id/build` queues it: run `run`, no attempt yet, its job id; `fields` on top. */
export function testBuild(taskId: string, arch: string, run = 1, fields: Partial<BuildRecord> = {}): BuildRecord {
  return {
    taskId,
    arch,
    state: 'queued',
    run,
    jobId: buildJobId(taskId, arch, run),
    attempt: 0,
    cancelRequested: false,
    queuedAt: new Date().toISOString(),
    artifacts: [],
    ...fields,
  };
}

/** The bundle of a task as an upload records it: package `p` 1.0-0 for amd64, uploaded now; `fields` on top. */
export function testBundle(fields: Partial<BundleInfo> = {}): BundleInfo {
  return {
    sha256: 'a'.repeat(64),
    size: 1,
    packageName: 'p',
    version: '1.0-0',
    noarch: false,
    targets: ['amd64'],
    uploadedAt: new Date().toISOString(),
    ...fields,
  };
}

/**
 * The store's next task, created and its builds queued as `PUT /task/:id/build` does: one per arch at run 1, with
 * `fields` on each. Returns queueBuilds' answer (`done` when queued).
 */
export async function queueTestTask(
  store: FarmStore,
  archs: string[],
  fields: Partial<BuildRecord> = {},
): Promise<Awaited<ReturnType<FarmStore['queueBuilds']>>> {
  const id = await store.nextTaskId();
  await store.createTask(testTask(id));
  const builds = archs.map((arch) => testBuild(id, arch, 1, fields));
  return store.queueBuilds({ id }, ['created'], [], { archs }, builds);
}
