import type { Logger } from '@aoinb/logging';
import type { BuildRecord, TaskRecord } from '@aoinb/farm-protocol';

/** A .deb of a build: where the coordinator keeps it, and its file name. */
export interface BuiltDeb {
  source: string;
  name: string;
}

/**
 * The one interface between the build services and a layer over builds (group
 * builds). The services call it for every task and build, and know nothing of
 * what is registered; a layer looks at the task (e.g. its `groupId`) and
 * ignores the rest. Calls, in a build's life:
 * - `checkDirectChange` before a direct change of a task (build, branch,
 *   cancel, retry): a layer that owns the task refuses it by throwing;
 * - `jobStarted` when a worker took a build's job (a BullMQ `active` event);
 * - `publishing` before a build that succeeded is recorded `succeeded`, with its
 *   debs: a layer may put them elsewhere first and hold them from the branch;
 * - `ended` once a build reached a final state, reported or not (errors are
 *   logged here, never thrown back: the build's change stands);
 * - `restoreJob` when a live build's job is missing (a crash): the layer that
 *   owns the job's shape adds it again and answers true.
 */
export interface BuildLifecycle {
  checkDirectChange(task: TaskRecord, what: string): void;
  jobStarted(arch: string, jobId: string): Promise<void>;
  publishing(task: TaskRecord, debs: BuiltDeb[]): Promise<{ toBranch: boolean }>;
  ended(task: TaskRecord, build: BuildRecord): Promise<void>;
  restoreJob(task: TaskRecord, build: BuildRecord): Promise<boolean>;
}

/** What the services call: the observers registered at start-up, each asked in turn. */
export class BuildHooks implements BuildLifecycle {
  private readonly observers: Array<Partial<BuildLifecycle>> = [];

  constructor(private readonly logger: Logger) {}

  /** Registers an observer; returns the function that removes it. */
  register(observer: Partial<BuildLifecycle>): () => void {
    this.observers.push(observer);
    return () => {
      const at = this.observers.indexOf(observer);
      if (at >= 0) this.observers.splice(at, 1);
    };
  }

  checkDirectChange(task: TaskRecord, what: string): void {
    for (const o of this.observers) o.checkDirectChange?.(task, what);
  }

  async jobStarted(arch: string, jobId: string): Promise<void> {
    for (const o of this.observers)
      await o
        .jobStarted?.(arch, jobId)
        .catch((error: Error) =>
          this.logger.warn({ arch, jobId, err: error.message }, 'a build lifecycle observer failed on a job start'),
        );
  }

  async publishing(task: TaskRecord, debs: BuiltDeb[]): Promise<{ toBranch: boolean }> {
    let toBranch = true;
    for (const o of this.observers) if (o.publishing && !(await o.publishing(task, debs)).toBranch) toBranch = false;
    return { toBranch };
  }

  async ended(task: TaskRecord, build: BuildRecord): Promise<void> {
    for (const o of this.observers)
      await o
        .ended?.(task, build)
        .catch((error: Error) =>
          this.logger.warn(
            { taskId: task.id, arch: build.arch, err: error.message },
            'a build lifecycle observer failed on a build end',
          ),
        );
  }

  async restoreJob(task: TaskRecord, build: BuildRecord): Promise<boolean> {
    for (const o of this.observers) if (o.restoreJob && (await o.restoreJob(task, build))) return true;
    return false;
  }
}
