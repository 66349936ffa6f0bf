import { readdir, rm, rmdir, stat } from 'node:fs/promises';
import path from 'node:path';
import type { RetentionConfig } from '@aoinb/config';
import { isFinalBuildState, type TaskRecord } from '@aoinb/farm-protocol';
import type { CoordinatorContext } from '../context.ts';
import { cutoff, type PageGate } from './prune-records.ts';

export interface FilesPruned {
  bundles: number;
  debs: number;
  logs: number;
}

async function entries(dir: string): Promise<string[]> {
  return readdir(dir).catch(() => [] as string[]);
}

/** Finished tasks among the ids (folder names) that finished before `limit`. */
async function finishedBefore(ctx: CoordinatorContext, ids: string[], limit: Date): Promise<TaskRecord[]> {
  const tasks = await ctx.store.getTasks(ids.filter((id) => /^\d+$/.test(id)));
  const iso = limit.toISOString();
  // A folder without a record is left alone: pending deletions are finished by the pass itself.
  return tasks.filter(
    (t): t is TaskRecord => !!t && isFinalBuildState(t.state) && !!t.finishedAt && t.finishedAt < iso,
  );
}

async function pages(
  ids: string[],
  size: number,
  gate: PageGate,
  each: (page: string[]) => Promise<void>,
): Promise<void> {
  for (let i = 0; i < ids.length; i += size) {
    await each(ids.slice(i, i + size));
    await gate();
  }
}

/** Debs of a task no repository holds (a repository's copy is a hard link: one link left means none). */
async function pruneDebs(ctx: CoordinatorContext, taskId: string): Promise<number> {
  let removed = 0;
  const root = path.join(ctx.layout.taskDir(taskId), 'artifacts');
  for (const arch of await entries(root))
    for (const attempt of await entries(path.join(root, arch))) {
      const dir = path.join(root, arch, attempt);
      for (const name of await entries(dir)) {
        if (!name.endsWith('.deb')) continue;
        const info = await stat(path.join(dir, name)).catch(() => undefined);
        if (!info || info.nlink > 1) continue;
        await rm(path.join(dir, name), { force: true });
        await rm(path.join(dir, `${name}.sha256`), { force: true });
        removed += 1;
      }
      await rmdir(dir).catch(() => undefined);
    }
  return removed;
}

/**
 * Files of finished tasks whose records stay: bundles past `bundle_days`, debs
 * no repository holds past `artifact_days`, archived logs past `log_days`.
 */
export async function pruneFiles(
  ctx: CoordinatorContext,
  rules: RetentionConfig,
  now: number,
  gate: PageGate,
): Promise<FilesPruned> {
  const out: FilesPruned = { bundles: 0, debs: 0, logs: 0 };
  const bundleLimit = cutoff(now, rules.bundleDays);
  const debLimit = cutoff(now, rules.artifactDays);
  const logLimit = cutoff(now, rules.logDays);
  const first = [bundleLimit, debLimit].filter((d): d is Date => !!d).sort((a, b) => b.getTime() - a.getTime())[0];
  if (first) {
    await pages(await entries(ctx.layout.tasksDir), rules.batch, gate, async (ids) => {
      for (const task of await finishedBefore(ctx, ids, first)) {
        if (bundleLimit && task.finishedAt! < bundleLimit.toISOString()) {
          const had = await stat(ctx.layout.bundleArchive(task.id)).catch(() => undefined);
          await rm(ctx.layout.bundleArchive(task.id), { force: true });
          await rm(ctx.layout.bundleDir(task.id), { recursive: true, force: true });
          if (had) out.bundles += 1;
        }
        if (debLimit && task.finishedAt! < debLimit.toISOString()) out.debs += await pruneDebs(ctx, task.id);
      }
    });
  }
  if (logLimit) {
    await pages(await entries(ctx.layout.logsDir), rules.batch, gate, async (ids) => {
      for (const task of await finishedBefore(ctx, ids, logLimit)) {
        await rm(ctx.layout.logDir(task.id), { recursive: true, force: true });
        out.logs += 1;
      }
    });
  }
  return out;
}
