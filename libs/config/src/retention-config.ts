import type { TableReader } from './table-reader.ts';

/**
 * `[retention]`: what the coordinator's pruner removes, and when. Ages count
 * from when a task or group finished; 0 turns a rule off (kept for ever).
 */
export interface RetentionConfig {
  /** Minutes between two pruner passes; 0: no pruner (the DELETE routes still work). */
  intervalMinutes: number;
  /** Finished tasks (record, builds, logs, bundle, debs) go this many days after they finished. */
  taskDays: number;
  /** At most this many finished tasks are kept; the oldest go first. */
  maxFinishedTasks: number;
  /** Tasks never built (state created) go this many days after they were created. */
  createdTaskDays: number;
  /**
   * Finished groups (record, members, the group repository, the member tasks) go this many days after they finished.
   */
  groupDays: number;
  maxFinishedGroups: number;
  /** The bundle of a finished task (archive and extracted copy) goes after this many days; the record stays. */
  bundleDays: number;
  /** A finished build's debs that no repository holds any more go after this many days. */
  artifactDays: number;
  /** Archived build logs go after this many days; the record stays. */
  logDays: number;
  /** A builder offline this many days leaves `GET /builder/status`. */
  builderDays: number;
  /** Records looked at per step of a pass (bounds one pass's Redis work). */
  batch: number;
}

const maxDays = 100 * 365;

export function readRetentionConfig(root: TableReader): RetentionConfig {
  const t = root.section('retention');
  const days = (key: string, fallback: number): number => t.integer(key, { default: fallback, min: 0, max: maxDays });
  const config: RetentionConfig = {
    intervalMinutes: t.integer('interval_minutes', { default: 10, min: 0, max: 7 * 24 * 60 }),
    taskDays: days('task_days', 90),
    maxFinishedTasks: t.integer('max_finished_tasks', { default: 200_000, min: 0 }),
    createdTaskDays: days('created_task_days', 7),
    groupDays: days('group_days', 90),
    maxFinishedGroups: t.integer('max_finished_groups', { default: 10_000, min: 0 }),
    bundleDays: days('bundle_days', 30),
    artifactDays: days('artifact_days', 14),
    logDays: days('log_days', 90),
    builderDays: days('builder_days', 7),
    batch: t.integer('batch', { default: 500, min: 1, max: 100_000 }),
  };
  // A part kept longer than its task would be removed with the task anyway: almost always a mistake.
  for (const [key, value] of [
    ['bundle_days', config.bundleDays],
    ['artifact_days', config.artifactDays],
    ['log_days', config.logDays],
  ] as const) {
    if (config.taskDays > 0 && value > config.taskDays)
      t.problem(key, `must be at most task_days (${config.taskDays}): a finished task's files go with it`);
  }
  t.rejectUnknown();
  return config;
}
