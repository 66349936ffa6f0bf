import type { BuilderView, JobView, NeedsView, TaskStatus, TaskSummary } from '@aoinb/farm-contract';
import {
  describeNeeds,
  hasNeeds,
  type BuilderStatus,
  type BuildNeeds,
  type BuildRecord,
  type TaskRecord,
} from '@aoinb/farm-protocol';
import { resourceView } from './resource-view.ts';

/**
 * The JSON the API returns. Field names are snake_case (like config.toml);
 * URLs are absolute, from `coordinator.public_url`.
 */
export function taskSummary(task: TaskRecord): TaskSummary {
  return {
    id: task.id,
    state: task.state,
    branch: task.branch ?? null,
    package: task.bundle
      ? { name: task.bundle.packageName, version: task.bundle.version, noarch: task.bundle.noarch }
      : null,
    archs: task.archs,
    created_by: task.createdBy,
    created_at: task.createdAt,
    updated_at: task.updatedAt,
    finished_at: task.finishedAt ?? null,
    group_id: task.groupId ?? null,
    network: task.network === true,
  };
}

function needsView(needs: BuildNeeds | undefined): NeedsView | null {
  if (!hasNeeds(needs)) return null;
  return {
    cores: needs.cores ?? null,
    memory_bytes: needs.memoryBytes ?? null,
    memory_per_core_bytes: needs.memoryPerCoreBytes ?? null,
    disk_bytes: needs.diskBytes ?? null,
    network: needs.network === true,
    summary: describeNeeds(needs),
  };
}

function jobView(baseUrl: string, task: TaskRecord, build: BuildRecord): JobView {
  return {
    arch: build.arch,
    state: build.state,
    run: build.run,
    job_id: build.jobId,
    builder: build.builder ?? null,
    attempt: build.attempt,
    cancel_requested: build.cancelRequested,
    queued_at: build.queuedAt,
    started_at: build.startedAt ?? null,
    finished_at: build.finishedAt ?? null,
    reason: build.reason ?? null,
    failure_class: build.failureClass ?? null,
    log_url: `${baseUrl}/task/${task.id}/log?arch=${build.arch}`,
    artifacts: build.artifacts.map((a) => ({
      name: a.name,
      size: a.size,
      sha256: a.sha256,
      url: `${baseUrl}/task/${task.id}/artifact/${build.arch}/${encodeURIComponent(a.name)}`,
      repo_url: a.publishedTo ? `${baseUrl}/repo/${a.publishedTo}/${encodeURIComponent(a.name)}` : null,
    })),
    phases_ms: build.phases ?? {},
    resources: resourceView(build.resources),
    needs: needsView(build.needs),
    learned: build.learned
      ? {
          memory_bytes: build.learned.memoryBytes,
          disk_bytes: build.learned.diskBytes,
          cpu_seconds: build.learned.cpuSeconds,
          seconds: build.learned.seconds,
          builds: build.learned.builds,
        }
      : null,
    startup_ms: build.startupMs ?? null,
  };
}

export function taskStatus(baseUrl: string, task: TaskRecord, builds: BuildRecord[]): TaskStatus {
  const failed = builds.filter((b) => b.state === 'failed' && b.reason);
  return {
    ...taskSummary(task),
    bundle: task.bundle
      ? {
          sha256: task.bundle.sha256,
          size: task.bundle.size,
          uploaded_at: task.bundle.uploadedAt,
          targets: task.bundle.targets,
        }
      : null,
    timeout_seconds: task.timeoutMs ? Math.round(task.timeoutMs / 1000) : null,
    reason: failed.map((b) => `${b.arch}: ${b.reason}`).join('; ') || null,
    log_url: `${baseUrl}/task/${task.id}/log`,
    repo_url: task.branch ? `${baseUrl}/repo/${task.branch}` : null,
    jobs: builds.map((b) => jobView(baseUrl, task, b)),
  };
}

export function builderView(b: BuilderStatus): BuilderView {
  const f = b.facts;
  return {
    id: b.id,
    state: b.state,
    last_heartbeat: b.lastHeartbeat,
    hostname: f?.hostname ?? null,
    arch_tags: f?.archs ?? [],
    slots: f?.slots ?? null,
    mode: f?.mode ?? null,
    paused_reason: f?.pausedReason ?? null,
    current_tasks: (f?.currentTasks ?? []).map((t) => ({
      task_id: t.taskId,
      arch: t.arch,
      job_id: t.jobId,
      started_at: t.startedAt,
    })),
    cores: f?.cores ?? null,
    memory_total_bytes: f?.memoryTotalBytes ?? null,
    memory_free_bytes: f?.memoryFreeBytes ?? null,
    disk_free_bytes: f?.diskFreeBytes ?? null,
    load: f?.load ?? null,
    version: f?.version ?? null,
    started_at: f?.startedAt ?? null,
  };
}
