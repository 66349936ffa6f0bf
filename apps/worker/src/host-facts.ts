import { readFile, statfs } from 'node:fs/promises';
import os from 'node:os';
import type { BuilderFacts, HostCapacity } from '@aoinb/farm-protocol';

/** MemAvailable from /proc/meminfo (what a build can really use); os.freemem() elsewhere. */
export async function availableMemory(): Promise<number> {
  try {
    const text = await readFile('/proc/meminfo', 'utf8');
    const match = /^MemAvailable:\s+(\d+) kB/m.exec(text);
    if (match) return Number(match[1]) * 1024;
  } catch {
    // Not Linux: fall through.
  }
  return os.freemem();
}

/** Free bytes for unprivileged writes in `dir`; 0 when it cannot be read. */
export async function diskFree(dir: string): Promise<number> {
  try {
    const s = await statfs(dir);
    return s.bavail * s.bsize;
  } catch {
    return 0;
  }
}

/** `worker.cores` / `worker.memory_gib`: what the worker offers builds; 0 = the host's, never more than it has. */
export interface OfferLimits {
  cores: number;
  memoryGib: number;
}

/** Cores and total memory offered to builds: the host's, capped by the config. */
export function offeredResources(limits: OfferLimits | undefined): { cores: number; memoryBytes: number } {
  const cores = os.availableParallelism();
  const memoryBytes = os.totalmem();
  return {
    cores: limits?.cores ? Math.min(cores, limits.cores) : cores,
    memoryBytes: limits?.memoryGib ? Math.min(memoryBytes, Math.floor(limits.memoryGib * 1024 ** 3)) : memoryBytes,
  };
}

/**
 * What the claim script checks a build's needs against: offered cores and memory, free disk in the
 * work dir now, and whether this host runs builds with a network (`[worker] allow_network_builds`).
 */
export async function hostCapacity(
  workDir: string,
  limits: OfferLimits | undefined,
  networkBuilds = false,
): Promise<HostCapacity> {
  const { cores, memoryBytes } = offeredResources(limits);
  return { cores, memoryBytes, diskFreeBytes: await diskFree(workDir), networkBuilds };
}

export interface HostFactsInput {
  id: string;
  archs: string[];
  slots: number;
  workDir: string;
  startedAt: string;
  version: string;
  mode: BuilderFacts['mode'];
  currentTasks: BuilderFacts['currentTasks'];
  offer?: OfferLimits;
  /** `[worker] allow_network_builds`, for placement (heartbeat `allowNetworkBuilds`). */
  allowNetworkBuilds?: boolean;
}

/** What a heartbeat says about this host right now. */
export async function collectHostFacts(input: HostFactsInput): Promise<BuilderFacts> {
  const [memoryFreeBytes, diskFreeBytes] = await Promise.all([availableMemory(), diskFree(input.workDir)]);
  const [l1, l5, l15] = os.loadavg();
  const offered = offeredResources(input.offer);
  return {
    id: input.id,
    hostname: os.hostname(),
    archs: input.archs,
    slots: input.slots,
    // What builds may use (placement compares ENVREQ with these), not more than the host has.
    cores: offered.cores,
    memoryTotalBytes: offered.memoryBytes,
    memoryFreeBytes,
    diskFreeBytes,
    allowNetworkBuilds: input.allowNetworkBuilds === true,
    load: [l1 ?? 0, l5 ?? 0, l15 ?? 0],
    currentTasks: input.currentTasks,
    mode: input.mode,
    startedAt: input.startedAt,
    lastHeartbeat: new Date().toISOString(),
    version: input.version,
  };
}
