import type { EnvReq } from '@aoinb/bundle';

/** What one build may use; 0 = no limit. */
export interface BuildLimits {
  memoryBytes: number;
  pids: number;
  diskBytes: number;
}

const mib = 1024 * 1024;
const gib = 1024 * mib;

export interface LimitSettings {
  memoryLimitMib: number;
  pidsLimit: number;
  diskLimitMib: number;
}

/** Processes a declared core may need: make's job tree (shell, compiler driver, cc1, as, ld) and test runners. */
export const pidsPerCore = 256;

/**
 * How far an ENVREQ can raise a limit, whatever it says: ENVREQ's own bounds
 * (libs/bundle envreq.ts: total_mem 65,536 GiB, disk 1,000,000 GB) and the
 * kernel's largest pid_max (2^22, also `pids_limit`'s bound).
 */
export const raiseBounds = { memoryBytes: 65_536 * gib, diskBytes: 1e15, pids: 4_194_304 } as const;

/** A declared amount as a number of units, or 0 when it is not a positive finite number. */
const declared = (value: number | undefined) =>
  typeof value === 'number' && Number.isFinite(value) && value > 0 ? value : 0;

/**
 * The config's defaults, raised to what the bundle's ENVREQ says it needs
 * (`total_mem` GiB, `total_mem_per_core` x `core`, `disk` GB, and `core` x
 * pidsPerCore processes): a package that declares a big build is not killed for
 * it. A limit of 0 stays off; ENVREQ never lowers a limit, and what is not a
 * positive number (NaN, negative, Infinity) raises nothing. Raises stop at raiseBounds.
 */
export function buildLimitsFor(settings: LimitSettings, envreq: EnvReq = {}): BuildLimits {
  const cores = Math.floor(declared(envreq.core)) || 1;
  const wantedMemory = Math.max(declared(envreq.totalMemGiB), declared(envreq.totalMemPerCoreGiB) * cores) * gib;
  const wantedDisk = declared(envreq.diskGB) * 1e9;
  const wantedPids = declared(envreq.core) > 0 ? cores * pidsPerCore : 0;
  const raise = (limit: number, wanted: number, bound: number) =>
    limit === 0 ? 0 : Math.max(limit, Math.min(Math.ceil(wanted), bound));
  return {
    memoryBytes: raise(settings.memoryLimitMib * mib, wantedMemory, raiseBounds.memoryBytes),
    pids: raise(settings.pidsLimit, wantedPids, raiseBounds.pids),
    diskBytes: raise(settings.diskLimitMib * mib, wantedDisk, raiseBounds.diskBytes),
  };
}

export function describeBytes(bytes: number): string {
  return `${Math.round(bytes / mib)} MiB`;
}
