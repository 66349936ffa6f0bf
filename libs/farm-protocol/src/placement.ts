/**
 * What a build needs from a host, and what a host offers (docs/placement.md).
 * The coordinator writes a build's needs on its record when it queues it
 * (ENVREQ and the learned requirement, the larger of each); the claim script
 * (transition-script.ts) refuses a claim by a host that lacks any of them, and
 * the coordinator's placement loop explains, from the heartbeats, why a build
 * still waits.
 */
export interface BuildNeeds {
  /** Logical cores. */
  cores?: number;
  /** Total memory of the host, bytes. */
  memoryBytes?: number;
  /** Total memory per logical core, bytes. */
  memoryPerCoreBytes?: number;
  /** Free disk in the host's work dir at the claim, bytes. */
  diskBytes?: number;
  /** The build gets a build network: only a host with `[worker] allow_network_builds` takes it. */
  network?: boolean;
}

/** A package's learned requirement on one arch, from its last successful builds (docs/placement.md). */
export interface LearnedRequirement {
  /** Peak memory of the hungriest kept build, with headroom; at most the largest host it succeeded on. */
  memoryBytes: number;
  /** Peak disk of the largest kept build, with headroom. */
  diskBytes: number;
  /** Medians of the kept builds. */
  cpuSeconds: number;
  seconds: number;
  builds: number;
}

/** What a host offers builds (the worker's heartbeat: `cores`, `memoryTotalBytes`, `diskFreeBytes`). */
export interface HostCapacity {
  cores: number;
  memoryBytes: number;
  diskFreeBytes: number;
  /** `[worker] allow_network_builds` (heartbeat `allowNetworkBuilds`); absent = not allowed. */
  networkBuilds?: boolean;
}

/** One thing a host lacks: which need, how much is needed, how much the host has (network: 1 wanted, 0 had). */
export interface Shortfall {
  need: keyof BuildNeeds;
  wanted: number;
  has: number;
}

/** The needs that are amounts; `network` is a yes/no need, the last one. */
type AmountNeed = Exclude<keyof BuildNeeds, 'network'>;
const amountNeeds = ['cores', 'memoryBytes', 'memoryPerCoreBytes', 'diskBytes'] as const satisfies AmountNeed[];

/** Every need, in the order people read them. */
export const needNames: ReadonlyArray<keyof BuildNeeds> = [...amountNeeds, 'network'];

/** A need as a number: an amount, or 1 for a build network asked for (undefined: not asked). */
export function needValue(needs: BuildNeeds, need: keyof BuildNeeds): number | undefined {
  if (need === 'network') return needs.network === true ? 1 : undefined;
  return needs[need];
}

/** What `host` lacks of `needs` (empty: it can take the build). */
export function shortfallsOf(needs: BuildNeeds, host: HostCapacity): Shortfall[] {
  const has: Record<keyof BuildNeeds, number> = {
    cores: host.cores,
    memoryBytes: host.memoryBytes,
    memoryPerCoreBytes: host.cores > 0 ? host.memoryBytes / host.cores : 0,
    diskBytes: host.diskFreeBytes,
    network: host.networkBuilds === true ? 1 : 0,
  };
  const out: Shortfall[] = [];
  for (const need of needNames) {
    const wanted = needValue(needs, need);
    if (wanted !== undefined && has[need] < wanted) out.push({ need, wanted, has: has[need] });
  }
  return out;
}

/** The larger of each need (a network when any asks for one): what a sequence of builds needs of its one host. */
export function mergeNeeds(...all: BuildNeeds[]): BuildNeeds {
  const out: BuildNeeds = {};
  for (const needs of all) {
    for (const need of amountNeeds) {
      const v = needs[need];
      if (v !== undefined && Number.isFinite(v) && v > 0) out[need] = Math.max(out[need] ?? 0, v);
    }
    if (needs.network === true) out.network = true;
  }
  return out;
}

export function hasNeeds(needs: BuildNeeds | undefined): needs is BuildNeeds {
  return needs !== undefined && needNames.some((n) => needValue(needs, n) !== undefined);
}

const GiB = 1024 ** 3;

/** `16 GiB`, `1.5 GiB`: memory as people read it. */
export function gib(bytes: number): string {
  const v = bytes / GiB;
  return `${v >= 10 || Number.isInteger(v) ? Math.round(v) : v.toFixed(1)} GiB`;
}

/** `40 GB`: disk in BuildIt!'s unit (10^9 bytes). */
export function gb(bytes: number): string {
  const v = bytes / 1e9;
  return `${v >= 10 || Number.isInteger(v) ? Math.round(v) : v.toFixed(1)} GB`;
}

/** `16 GiB`, `8 cores`, `4 GiB per core`, `40 GB free disk`, `a build network`. */
export function formatNeed(need: keyof BuildNeeds, value: number): string {
  switch (need) {
    case 'network':
      return 'a build network';
    case 'cores':
      return `${value} cores`;
    case 'memoryBytes':
      return gib(value);
    case 'memoryPerCoreBytes':
      return `${gib(value)} per core`;
    case 'diskBytes':
      return `${gb(value)} free disk`;
  }
}

/** The needs as people read them: `8 cores, 16 GiB`. */
export function describeNeeds(needs: BuildNeeds): string {
  return needNames
    .flatMap((n) => {
      const value = needValue(needs, n);
      return value === undefined ? [] : [formatNeed(n, value)];
    })
    .join(', ');
}

/** The capacity argument of the claim script: `cores,memoryBytes,diskFreeBytes,network` (network 1 or 0). */
export function capacityArg(host: HostCapacity | undefined): string {
  if (!host) return '';
  const amounts = [host.cores, host.memoryBytes, host.diskFreeBytes].map((n) => String(Math.max(0, Math.floor(n))));
  return [...amounts, host.networkBuilds === true ? '1' : '0'].join(',');
}
