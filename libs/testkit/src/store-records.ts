import { buildJobId, type BuildRecord, type BundleInfo, type TaskRecord } from '@aoinb/farm-protocol';

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
