import { isFinalBuildState, logMember, farmNode } from '@aoinb/farm-protocol';
import type { CoordinatorContext } from '../context.ts';
import { endLog } from './build-log.ts';

export interface RunLog {
  taskId: string;
  arch: string;
  run: number;
}

/**
 * The net under "every log ends": a log whose build reached a final state (or
 * moved on to a later run, or is gone) gets its end if it has none, and is
 * archived (a build that is gone is skipped). The state script ends a log together with the final state; this
 * repairs what it cannot have done: logs of an older coordinator, a crash
 * before an archive, a stream written by hand.
 */
export async function reconcileLogs(ctx: CoordinatorContext, logs: RunLog[]): Promise<void> {
  for (const log of logs) {
    await reconcileLog(ctx, log).catch((error: Error) =>
      ctx.logger.warn({ ...log, err: error.message }, 'log reconcile failed'),
    );
  }
}

async function reconcileLog(ctx: CoordinatorContext, { taskId, arch, run }: RunLog): Promise<void> {
  const build = await ctx.store.getBuild(taskId, arch);
  // A deleted task (retention, DELETE) takes its logs with it: nothing to end, nothing to recreate.
  if (!build) {
    await ctx.redis.srem(ctx.keys.unarchivedLogs, logMember(taskId, arch, run));
    return;
  }
  if (build.run === run && !isFinalBuildState(build.state)) return;
  const state = build.run === run ? build.state : 'cancelled';
  const reason = build.run === run ? (build.reason ?? '') : `run ${build.run} superseded it`;
  await endLog(ctx, taskId, arch, run, state, reason);
}

/**
 * Build logs in Redis that were never archived (no expiry set): a one-off walk
 * at start, for logs a crash or an older version left without an end.
 */
export async function scanOpenLogs(ctx: CoordinatorContext): Promise<RunLog[]> {
  const prefix = ctx.keys.log('', '', 0).replace(/::0$/, '');
  const found: RunLog[] = [];
  // SCAN walks one node: on a cluster, the one that holds the farm's slot.
  const node = await farmNode(ctx.redis, ctx.keys.prefix);
  let cursor = '0';
  do {
    const [next, keys] = await node.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000, 'TYPE', 'stream');
    cursor = next;
    for (const key of keys) {
      const match = /:(\d+):([a-z0-9_]+):(\d+)$/.exec(key);
      if (!match || (await ctx.redis.ttl(key)) !== -1) continue;
      found.push({ taskId: match[1] as string, arch: match[2] as string, run: Number(match[3]) });
    }
  } while (cursor !== '0');
  return found;
}
