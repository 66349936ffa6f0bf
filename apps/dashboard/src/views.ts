/** The API's answers, as far as the pages read them (docs/farm.md, docs/groups.md). */
export interface TaskSummary {
  id: string;
  state: string;
  branch: string | null;
  package: { name: string; version: string; noarch: boolean } | null;
  archs: string[];
  created_by: string;
  created_at: string;
  finished_at: string | null;
  group_id: string | null;
}

export interface Artifact {
  name: string;
  size: number;
  sha256: string;
  url: string;
  repo_url: string | null;
}

export interface Resources {
  cpu_seconds: number;
  avg_cpu_cores: number | null;
  peak_cpu_cores: number | null;
  peak_memory_bytes: number;
  peak_disk_bytes: number;
  method: string;
  samples: Array<{ at_ms: number; cpu_cores: number; memory_bytes: number; disk_bytes: number }>;
}

export interface JobView {
  arch: string;
  state: string;
  run: number;
  builder: string | null;
  attempt: number;
  cancel_requested: boolean;
  queued_at: string;
  started_at: string | null;
  finished_at: string | null;
  reason: string | null;
  artifacts: Artifact[];
  phases_ms: Record<string, number>;
  resources: Resources | null;
}

export interface TaskStatus extends TaskSummary {
  bundle: { sha256: string; size: number; uploaded_at: string; targets: string[] } | null;
  reason: string | null;
  repo_url: string | null;
  jobs: JobView[];
}

export interface MemberRef {
  task_id: string;
  package: string | null;
  arch: string | null;
  state: string | null;
}

export interface GroupMember {
  task_id: string;
  package: string;
  arch: string;
  state: string;
  depends_on: MemberRef[];
  waiting_for: MemberRef[];
  skipped_because: (MemberRef & { root: MemberRef }) | null;
  round: number;
  run: number;
  builder: string | null;
  started_at: string | null;
  finished_at: string | null;
  reason: string | null;
  estimate_seconds: number;
  estimate_known: boolean;
  critical_path_seconds: number;
}

export interface GroupSummary {
  id: string;
  state: string;
  branch: string;
  mode: string;
  publish: string;
  round: number;
  tasks: string[];
  archs: string[];
  members?: number;
  reason: string | null;
  created_by: string;
  created_at: string;
  finished_at: string | null;
  repo_url: string;
}

export interface GroupStatus extends Omit<GroupSummary, 'members'> {
  counts: Record<string, number>;
  critical_path_seconds: number;
  apt_source: string;
  members: GroupMember[];
}

export interface BuilderView {
  id: string;
  state: string;
  last_heartbeat: string;
  hostname: string | null;
  arch_tags: string[];
  slots: number | null;
  mode: string | null;
  current_tasks: Array<{ task_id: string; arch: string; started_at: string }>;
  cores: number | null;
  memory_total_bytes: number | null;
  memory_free_bytes: number | null;
  disk_free_bytes: number | null;
  load: number[] | null;
}
