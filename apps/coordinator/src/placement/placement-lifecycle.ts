import type { BuilderFacts, BuildRecord, TaskRecord } from '@aoinb/farm-protocol';
import type { BuildLifecycle } from '../build-lifecycle.ts';
import type { CoordinatorContext } from '../context.ts';
import { LearnedStore } from './learned-requirements.ts';

/** The memory the builder offered, from its heartbeat (undefined once it is offline). */
async function hostMemoryOf(ctx: CoordinatorContext, builderId: string | undefined): Promise<number | undefined> {
  if (!builderId) return undefined;
  const raw = await ctx.redis.get(ctx.keys.builder(builderId));
  if (!raw) return undefined;
  return (JSON.parse(raw) as BuilderFacts).memoryTotalBytes;
}

/** A successful build's measured resources become part of its package's learned requirement on that arch. */
async function learn(ctx: CoordinatorContext, task: TaskRecord, build: BuildRecord): Promise<void> {
  const resources = build.resources;
  if (build.state !== 'succeeded' || !resources || !task.bundle) return;
  const seconds = (Date.parse(build.finishedAt ?? '') - Date.parse(build.startedAt ?? '')) / 1000;
  const hostMemoryBytes = await hostMemoryOf(ctx, build.builder);
  await new LearnedStore(ctx.redis, ctx.keys).record(task.bundle.packageName, build.arch, {
    peakMemoryBytes: resources.peakMemoryBytes,
    peakDiskBytes: resources.peakDiskBytes,
    cpuSeconds: resources.cpuSeconds,
    seconds: Number.isFinite(seconds) ? Math.max(0, seconds) : 0,
    ...(hostMemoryBytes ? { hostMemoryBytes } : {}),
    at: build.finishedAt ?? new Date().toISOString(),
  });
}

/** How placement hooks into the build services: it learns from every build that succeeded. */
export function placementLifecycle(ctx: CoordinatorContext): Partial<BuildLifecycle> {
  return { ended: (task, build) => learn(ctx, task, build) };
}
