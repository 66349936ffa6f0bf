import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { RetentionConfig } from '@aoinb/config';
import { RetentionStore, runWithRestart } from '@aoinb/farm-protocol';
import type { CoordinatorContext } from '../context.ts';
import { finishGroupDeletion } from './delete-group.ts';
import { removeTaskFiles } from './delete-task.ts';
import { pruneFiles, type FilesPruned } from './prune-files.ts';
import { cutoff, pruneGroups, pruneTasks, type PageGate } from './prune-records.ts';

export interface PassOutcome extends FilesPruned {
  tasks: number;
  groups: number;
  builders: number;
  /** Deletions a dead coordinator left half done, finished now. */
  resumed: number;
}

/** Another coordinator took the lease (ours expired): this pass stops where it is. */
class LeaseLost extends Error {}

/** A pass holds the lease this long and renews it between pages. */
const leaseMs = 60_000;

async function resumePending(ctx: CoordinatorContext, store: RetentionStore): Promise<number> {
  let resumed = 0;
  for (const p of await store.pending()) {
    if (p.kind === 'task') {
      await removeTaskFiles(ctx, p.id);
      await store.donePending('task', p.id);
    } else await finishGroupDeletion(ctx, p.id, p.taskIds);
    resumed += 1;
  }
  return resumed;
}

/** One pass of every rule, oldest records first. `gate` runs between pages. */
export async function prunePass(
  ctx: CoordinatorContext,
  rules: RetentionConfig,
  gate: PageGate = async () => undefined,
  now = Date.now(),
): Promise<PassOutcome> {
  const store = new RetentionStore(ctx.redis, ctx.keys);
  const resumed = await resumePending(ctx, store);
  const groups = await pruneGroups(ctx, rules, now, gate);
  const tasks = await pruneTasks(ctx, rules, now, gate);
  const files = await pruneFiles(ctx, rules, now, gate);
  const builderCutoff = cutoff(now, rules.builderDays);
  const builders = builderCutoff ? await store.forgetBuilders(builderCutoff.getTime()) : 0;
  return { resumed, groups, tasks, builders, ...files };
}

export interface Pruner {
  close(): Promise<void>;
}

/**
 * The background pruner: a pass every `interval_minutes`, by whichever
 * coordinator holds the lease (a Redis key with a TTL, renewed between pages),
 * so two coordinators never prune at once. Restarts after an error with backoff.
 */
export function startPruner(ctx: CoordinatorContext, rules: RetentionConfig, signal?: AbortSignal): Pruner {
  if (rules.intervalMinutes === 0) return { close: async () => undefined };
  const logger = ctx.logger.child({ component: 'retention' });
  const stop = new AbortController();
  const abort = (): void => stop.abort();
  signal?.addEventListener('abort', abort, { once: true });
  const store = new RetentionStore(ctx.redis, ctx.keys);
  const holder = `${hostname()}:${process.pid}:${randomUUID()}`;
  const gate: PageGate = async () => {
    if (stop.signal.aborted) throw new LeaseLost('stopping');
    if (!(await store.renewLease(holder, leaseMs))) throw new LeaseLost('lease lost');
    await new Promise((resolve) => setImmediate(resolve));
  };
  const pass = async (): Promise<void> => {
    if (!(await store.acquireLease(holder, leaseMs))) return;
    try {
      const outcome = await prunePass(ctx, rules, gate);
      if (Object.values(outcome).some((n) => n > 0))
        logger.info(outcome, 'retention pass removed old records and files');
    } catch (error) {
      if (error instanceof LeaseLost) logger.info({ reason: error.message }, 'retention pass stopped');
      else throw error;
    } finally {
      await store.releaseLease(holder).catch(() => undefined);
    }
  };
  const loop = runWithRestart('retention pruner', logger, stop.signal, pass, rules.intervalMinutes * 60_000);
  return {
    close: async () => {
      stop.abort();
      signal?.removeEventListener('abort', abort);
      await loop;
    },
  };
}
