import type { BuildNeeds, FarmKeys, LearnedRequirement, RedisClient } from '@aoinb/farm-protocol';

/** What one successful build of a package on an arch used (its ResourceSummary) and on what host. */
export interface LearnedSample {
  peakMemoryBytes: number;
  peakDiskBytes: number;
  cpuSeconds: number;
  /** Wall time from claim to result. */
  seconds: number;
  /** Total memory the builder offered, when its heartbeat was there: the learned need never asks for more. */
  hostMemoryBytes?: number;
  at: string;
}

/** Successful builds kept per package and arch. */
export const learnedKept = 5;
/** Measured peaks are multiplied by this: the next build of a package may use a little more. */
export const learnedHeadroom = 1.25;

/** KEYS: 1 learned hash; ARGV: 1 field, 2 sample (JSON), 3 how many to keep. */
const recordScript = `
local raw = redis.call('HGET', KEYS[1], ARGV[1])
local list = {}
if raw then list = cjson.decode(raw) end
table.insert(list, cjson.decode(ARGV[2]))
local keep = tonumber(ARGV[3])
while #list > keep do table.remove(list, 1) end
redis.call('HSET', KEYS[1], ARGV[1], cjson.encode(list))
return #list
`;

function median(values: number[]): number {
  const sorted = values.filter(Number.isFinite).sort((a, b) => a - b);
  if (sorted.length === 0) return 0;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** The requirement the kept samples teach (undefined: none kept). */
export function learnedFrom(samples: LearnedSample[]): LearnedRequirement | undefined {
  if (samples.length === 0) return undefined;
  const peak = Math.max(0, ...samples.map((s) => s.peakMemoryBytes || 0));
  const hosts = samples.map((s) => s.hostMemoryBytes ?? 0).filter((m) => m > 0);
  // A package that built on a host must keep fitting that host: headroom never asks for more than it had.
  const cap = hosts.length > 0 ? Math.max(...hosts) : Infinity;
  return {
    memoryBytes: Math.round(Math.min(peak * learnedHeadroom, Math.max(peak, cap))),
    diskBytes: Math.round(Math.max(0, ...samples.map((s) => s.peakDiskBytes || 0)) * learnedHeadroom),
    cpuSeconds: median(samples.map((s) => s.cpuSeconds)),
    seconds: median(samples.map((s) => s.seconds)),
    builds: samples.length,
  };
}

/** The part of a learned requirement placement uses (memory and disk; 0 = nothing measured). */
export function learnedNeeds(learned: LearnedRequirement | undefined): BuildNeeds {
  if (!learned) return {};
  return {
    ...(learned.memoryBytes > 0 ? { memoryBytes: learned.memoryBytes } : {}),
    ...(learned.diskBytes > 0 ? { diskBytes: learned.diskBytes } : {}),
  };
}

const fieldOf = (pkg: string, arch: string): string => `${pkg}/${arch}`;

function parseSamples(raw: string | null | undefined): LearnedSample[] {
  if (!raw) return [];
  try {
    const list = JSON.parse(raw) as unknown;
    return Array.isArray(list) ? (list as LearnedSample[]) : [];
  } catch {
    return [];
  }
}

/** Learned requirements in Redis (`keys.learnedNeeds`): written when a build succeeds, read when one is queued. */
export class LearnedStore {
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: FarmKeys,
  ) {}

  async record(pkg: string, arch: string, sample: LearnedSample): Promise<void> {
    await this.redis.eval(
      recordScript,
      1,
      this.keys.learnedNeeds,
      fieldOf(pkg, arch),
      JSON.stringify(sample),
      String(learnedKept),
    );
  }

  async samples(pkg: string, arch: string): Promise<LearnedSample[]> {
    return parseSamples(await this.redis.hget(this.keys.learnedNeeds, fieldOf(pkg, arch)));
  }

  async get(pkg: string, arch: string): Promise<LearnedRequirement | undefined> {
    return learnedFrom(await this.samples(pkg, arch));
  }

  /** Learned requirements of many `<package>/<arch>` at once. */
  async many(items: Array<{ pkg: string; arch: string }>): Promise<Map<string, LearnedRequirement>> {
    const out = new Map<string, LearnedRequirement>();
    if (items.length === 0) return out;
    const fields = items.map((i) => fieldOf(i.pkg, i.arch));
    const values = await this.redis.hmget(this.keys.learnedNeeds, ...fields);
    fields.forEach((f, i) => {
      const learned = learnedFrom(parseSamples(values[i]));
      if (learned) out.set(f, learned);
    });
    return out;
  }
}
