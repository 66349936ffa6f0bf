import {
  decodeFields,
  hasNeeds,
  parseActiveBuildMember,
  readBuilders,
  shortfallsOf,
  buildSchema,
  type BuildNeeds,
  type BuildRecord,
  type FarmKeys,
  type RedisClient,
} from '@aoinb/farm-protocol';
import { liveBuildersOf, placementVerdict, type LiveBuilder, type PlacementVerdict } from './placement-verdict.ts';

/** One queued build and where it stands. */
export interface QueuedPlacement {
  taskId: string;
  arch: string;
  run: number;
  jobId: string;
  needs?: BuildNeeds;
  /** Its status reason now (placement writes only `waiting: ...` ones). */
  reason?: string;
  verdict: PlacementVerdict;
}

const fields = ['state', 'run', 'jobId', 'needs', 'reason', 'queuedAt'] as const;

async function queuedBuilds(redis: RedisClient, keys: FarmKeys): Promise<BuildRecord[]> {
  const members = (await redis.smembers(keys.activeBuilds)).flatMap((m) => parseActiveBuildMember(m) ?? []);
  if (members.length === 0) return [];
  const pipeline = redis.pipeline();
  for (const m of members) pipeline.hmget(keys.build(m.taskId, m.arch), ...fields);
  const replies = (await pipeline.exec()) ?? [];
  const out: BuildRecord[] = [];
  members.forEach((m, i) => {
    const values = (replies[i]?.[1] ?? []) as Array<string | null>;
    const hash: Record<string, string> = {};
    fields.forEach((f, k) => {
      if (values[k] !== null && values[k] !== undefined) hash[f] = values[k];
    });
    if (hash.state !== 'queued') return;
    out.push({ ...(decodeFields(buildSchema, hash) as BuildRecord), taskId: m.taskId, arch: m.arch });
  });
  // Oldest first: the free slots of able builders go to the builds that waited longest.
  return out.sort((a, b) => (a.queuedAt ?? '').localeCompare(b.queuedAt ?? '') || Number(a.taskId) - Number(b.taskId));
}

/**
 * Where every queued build stands among the live builders (heartbeats). A build with needs
 * that is `ready` takes one free slot of a builder able to take it, so later ones see fewer:
 * a slot is promised to one build, not to every build that could use it.
 */
export async function assessPlacement(redis: RedisClient, keys: FarmKeys): Promise<QueuedPlacement[]> {
  const [builders, builds] = await Promise.all([readBuilders(redis, Date.now(), keys), queuedBuilds(redis, keys)]);
  const liveByArch = new Map<string, LiveBuilder[]>();
  const live = (arch: string): LiveBuilder[] => {
    let list = liveByArch.get(arch);
    if (!list) liveByArch.set(arch, (list = liveBuildersOf(builders, arch)));
    return list;
  };
  return builds.map((b): QueuedPlacement => {
    const candidates = live(b.arch);
    const verdict = placementVerdict(b.needs, b.arch, candidates);
    if (verdict.kind === 'ready' && hasNeeds(b.needs)) {
      const taker = candidates.find((c) => c.freeSlots > 0 && shortfallsOf(b.needs!, c.capacity).length === 0);
      if (taker) taker.freeSlots -= 1;
    }
    return {
      taskId: b.taskId,
      arch: b.arch,
      run: b.run,
      jobId: b.jobId,
      ...(b.needs ? { needs: b.needs } : {}),
      ...(b.reason ? { reason: b.reason } : {}),
      verdict,
    };
  });
}
