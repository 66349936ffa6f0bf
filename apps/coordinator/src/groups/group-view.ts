import type { GroupMember, GroupStatus, GroupSummary, MemberRef } from '@aoinb/farm-contract';
import type { GroupMemberPlan, GroupRecord } from '@aoinb/farm-protocol';
import { waitingFor } from './group-policy.ts';
import { statusCounts, type GroupSnapshot } from './group-snapshot.ts';

/**
 * The JSON of `GET /group` and `GET /group/:id/status` (snake_case, absolute
 * URLs from `coordinator.public_url`).
 */
export function groupSummary(baseUrl: string, group: GroupRecord): GroupSummary {
  return {
    id: group.id,
    state: group.state,
    branch: group.branch,
    mode: group.mode,
    publish: group.publish,
    round: group.round,
    tasks: group.taskIds,
    archs: group.archs,
    cancel_requested: group.cancelRequested,
    reason: group.reason ?? null,
    created_by: group.createdBy,
    created_at: group.createdAt,
    updated_at: group.updatedAt,
    finished_at: group.finishedAt ?? null,
    published_at: group.publishedAt ?? null,
    repo_url: `${baseUrl}/group/${group.id}/repo`,
  };
}

function ref(snap: GroupSnapshot, key: string): MemberRef {
  const p = snap.plan.find((m) => m.key === key);
  return {
    task_id: p?.taskId ?? key,
    package: p?.package ?? null,
    arch: p?.arch ?? null,
    state: snap.views.get(key)?.status ?? null,
  };
}

function memberView(
  baseUrl: string,
  snap: GroupSnapshot,
  deps: Map<string, string[]>,
  p: GroupMemberPlan,
): GroupMember {
  const view = snap.views.get(p.key)!;
  const record = snap.members.get(p.key);
  const build = record?.phase === 'released' || record?.phase === 'skipped' ? snap.builds.get(p.key) : undefined;
  const skipped = view.status === 'skipped' ? record?.skippedBecause : undefined;
  return {
    task_id: p.taskId,
    package: p.package,
    arch: p.arch,
    state: view.status,
    depends_on: p.deps.map((d) => ref(snap, d)),
    waiting_for: view.status === 'waiting' ? waitingFor(p.key, deps, snap.views).map((d) => ref(snap, d)) : [],
    skipped_because: skipped
      ? {
          ...ref(snap, skipped.key),
          state: skipped.state,
          root: { ...ref(snap, skipped.rootKey), state: skipped.rootState },
        }
      : null,
    round: record?.round ?? 1,
    run: build?.run ?? record?.run ?? 1,
    job_id: build?.jobId ?? null,
    builder: build?.builder ?? null,
    attempt: build?.attempt ?? 0,
    queued_at: build?.queuedAt ?? null,
    started_at: build?.startedAt ?? null,
    finished_at: build?.finishedAt ?? (skipped || view.status === 'cancelled' ? (record?.at ?? null) : null),
    reason: build?.reason ?? null,
    priority: p.priority,
    estimate_seconds: p.estimateSeconds,
    estimate_known: p.estimateKnown,
    estimate_source: p.estimateSource ?? (p.estimateKnown ? 'history' : 'default'),
    critical_path_seconds: p.pathSeconds,
    log_url: build ? `${baseUrl}/task/${p.taskId}/log?arch=${p.arch}` : null,
    artifacts: (build?.artifacts ?? []).map((a) => ({
      name: a.name,
      size: a.size,
      sha256: a.sha256,
      group_repo_url: `${baseUrl}/group/${snap.group.id}/repo/${encodeURIComponent(a.name)}`,
      repo_url: a.publishedTo ? `${baseUrl}/repo/${a.publishedTo}/${encodeURIComponent(a.name)}` : null,
    })),
    network: snap.tasks.get(p.taskId)?.network === true,
  };
}

export function groupStatus(baseUrl: string, snap: GroupSnapshot): GroupStatus {
  const deps = new Map(snap.plan.map((p) => [p.key, p.deps]));
  const critical = Math.max(0, ...snap.plan.map((p) => p.pathSeconds));
  return {
    ...groupSummary(baseUrl, snap.group),
    counts: statusCounts(snap.views.values()),
    critical_path_seconds: critical,
    apt_source: `deb [signed-by=/etc/apt/keyrings/aoinb-archive-key.asc] ${baseUrl}/group/${snap.group.id}/repo ./`,
    apt_key_url: `${baseUrl}/group/${snap.group.id}/repo/aoinb-archive-key.asc`,
    members: snap.plan.map((p) => memberView(baseUrl, snap, deps, p)),
  };
}
