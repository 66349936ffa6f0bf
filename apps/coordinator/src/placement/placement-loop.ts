import { hasNeeds, promoteToHead, runWithRestart } from '@aoinb/farm-protocol';
import type { CoordinatorContext } from '../context.ts';
import { assessPlacement, type QueuedPlacement } from './placement-assessment.ts';
import { waitingPrefix } from './placement-verdict.ts';

export interface PlacementLoop {
  close(): Promise<void>;
}

/** The status reason a queued build should show ('' = none of placement's). */
function wantedReason(p: QueuedPlacement): string {
  return p.verdict.kind === 'ready' ? '' : p.verdict.reason;
}

/** Writes or clears a queued build's `waiting: ...` reason (never a reason placement did not write). */
async function showReason(ctx: CoordinatorContext, p: QueuedPlacement): Promise<void> {
  const wanted = wantedReason(p);
  const current = p.reason ?? '';
  if (wanted === current || (current !== '' && !current.startsWith(waitingPrefix))) return;
  const task = await ctx.store.getTask(p.taskId);
  if (!task) return;
  // Guarded like every build change: only while this run is still queued; the state stays.
  await ctx.store.transition({
    taskId: p.taskId,
    arch: p.arch,
    run: p.run,
    archs: task.archs,
    from: ['queued'],
    ...(wanted ? { set: { reason: wanted } } : { unset: ['reason'] }),
  });
}

/** A job some host handed back (delayed) goes back to the head of its queue now that an able builder is free. */
async function promoteIfDelayed(ctx: CoordinatorContext, p: QueuedPlacement): Promise<void> {
  if (!ctx.dispatcher.archs.includes(p.arch)) return;
  const job = await ctx.dispatcher.getJob(p.arch, p.jobId);
  // Taken, brought back or removed meanwhile: promoteToHead answers false. Any other error (Redis) is the
  // loop's to log and retry.
  if (job) await promoteToHead(job);
}

/** The jobs to bring back: ready, with needs (only placement hands jobs back), once per job, oldest first. */
function jobsToBringBack(placements: QueuedPlacement[]): QueuedPlacement[] {
  const seen = new Set<string>();
  return placements.filter((p) => {
    const key = `${p.arch}\n${p.jobId}`;
    if (p.verdict.kind !== 'ready' || !hasNeeds(p.needs) || seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/**
 * One pass: every queued build's waiting reason is current; handed-back jobs that an able free builder can take
 * are back.
 */
export async function placementPass(ctx: CoordinatorContext): Promise<QueuedPlacement[]> {
  const placements = await assessPlacement(ctx.redis, ctx.keys);
  for (const p of placements) await showReason(ctx, p);
  // Newest first: each goes to the head of its queue, so the oldest ends first in line.
  for (const p of jobsToBringBack(placements).reverse()) await promoteIfDelayed(ctx, p);
  return placements;
}

/**
 * The coordinator's placement loop (docs/placement.md). Every write is guarded and idempotent,
 * so two coordinators running it at once only repeat each other.
 */
export function startPlacementLoop(ctx: CoordinatorContext, intervalMs = 2000): PlacementLoop {
  const stop = new AbortController();
  const loop = runWithRestart(
    'placement',
    ctx.logger,
    stop.signal,
    async () => {
      await placementPass(ctx);
    },
    intervalMs,
  );
  return {
    async close() {
      stop.abort();
      await loop;
    },
  };
}
