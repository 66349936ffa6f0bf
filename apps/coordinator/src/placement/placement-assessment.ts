import {
  buildSchema,
  decodeFields,
  freeAbleBuilder,
  hasNeeds,
  liveBuildersOf,
  mergeNeeds,
  parseActiveBuildMember,
  readBuilders,
  type BuildNeeds,
  type BuildRecord,
  type FarmKeys,
  type LiveBuilder,
  type RedisClient,
} from '@aoinb/farm-protocol';
import { placementVerdict, type PlacementVerdict } from './placement-verdict.ts';

/** One queued build and where it stands. */
export interface QueuedPlacement {
  taskId: string;
  arch: string;
  run: number;
  jobId: string;
  /** What its job needs of one host: its own needs, or for a sequential group's job the largest of its members'. */
  needs?: BuildNeeds;
  /** Its status reason now (placement writes only `waiting: ...` ones). */
  reason?: string;
  verdict: PlacementVerdict;
}

const fields = ['state', 'run', 'jobId', 'needs', 'reason', 'queuedAt'] as const;

/** The queued builds of one BullMQ job: one build, or the queued members of a sequential group's job. */
interface QueuedJob {
  arch: string;
  jobId: string;
  builds: BuildRecord[];
  /** A member of its sequence is running: the job is on a host already. */
  started: boolean;
}

const jobKey = (arch: string, jobId: string): string => `${arch}\n${jobId}`;

async function activeBuilds(redis: RedisClient, keys: FarmKeys): Promise<BuildRecord[]> {
  const members = (await redis.smembers(keys.activeBuilds)).flatMap((m) => parseActiveBuildMember(m) ?? []);
  if (members.length === 0) return [];
  const pipeline = redis.pipeline();
  for (const m of members) pipeline.hmget(keys.build(m.taskId, m.arch), ...fields);
  const replies = (await pipeline.exec()) ?? [];
  return members.flatMap((m, i) => {
    const values = (replies[i]?.[1] ?? []) as Array<string | null>;
    const hash: Record<string, string> = {};
    fields.forEach((f, k) => {
      if (values[k] !== null && values[k] !== undefined) hash[f] = values[k];
    });
    if (!hash.state) return [];
    return [{ ...(decodeFields(buildSchema, hash) as BuildRecord), taskId: m.taskId, arch: m.arch }];
  });
}

/** The queued builds by job, oldest first: the free slots of able builders go to the jobs that waited longest. */
async function queuedJobs(redis: RedisClient, keys: FarmKeys): Promise<QueuedJob[]> {
  const active = await activeBuilds(redis, keys);
  const running = new Set(active.filter((b) => b.state === 'running').map((b) => jobKey(b.arch, b.jobId)));
  const queued = active
    .filter((b) => b.state === 'queued')
    .sort((a, b) => (a.queuedAt ?? '').localeCompare(b.queuedAt ?? '') || Number(a.taskId) - Number(b.taskId));
  const jobs = new Map<string, QueuedJob>();
  for (const b of queued) {
    const key = jobKey(b.arch, b.jobId);
    const job = jobs.get(key) ?? { arch: b.arch, jobId: b.jobId, builds: [], started: running.has(key) };
    job.builds.push(b);
    jobs.set(key, job);
  }
  return [...jobs.values()];
}

/** What a job needs of its one host: the largest of each need over its queued builds. */
function jobNeeds(job: QueuedJob): BuildNeeds | undefined {
  const needs = mergeNeeds(...job.builds.map((b) => b.needs ?? {}));
  return hasNeeds(needs) ? needs : undefined;
}

/**
 * Where every queued build stands among the live builders (heartbeats). A job with needs that is
 * `ready` takes one free slot of a builder able to take it, so later ones see fewer: a slot is
 * promised to one job, not to every job that could use it. A sequential group's job is judged
 * once, on the needs of all its queued members (it runs them all on one host); the queued members
 * of a sequence already on a host are `ready` (they wait for their turn there, not for a host).
 */
export async function assessPlacement(redis: RedisClient, keys: FarmKeys): Promise<QueuedPlacement[]> {
  const [builders, jobs] = await Promise.all([readBuilders(redis, Date.now(), keys), queuedJobs(redis, keys)]);
  const liveByArch = new Map<string, LiveBuilder[]>();
  const live = (arch: string): LiveBuilder[] => {
    let list = liveByArch.get(arch);
    if (!list) liveByArch.set(arch, (list = liveBuildersOf(builders, arch)));
    return list;
  };
  return jobs.flatMap((job) => {
    const needs = jobNeeds(job);
    const candidates = live(job.arch);
    const verdict: PlacementVerdict = job.started ? { kind: 'ready' } : placementVerdict(needs, job.arch, candidates);
    if (!job.started && verdict.kind === 'ready' && needs) {
      const taker = freeAbleBuilder(needs, candidates);
      if (taker) taker.freeSlots -= 1;
    }
    return job.builds.map((b): QueuedPlacement => ({
      taskId: b.taskId,
      arch: b.arch,
      run: b.run,
      jobId: b.jobId,
      ...(needs ? { needs } : {}),
      ...(b.reason ? { reason: b.reason } : {}),
      verdict,
    }));
  });
}
