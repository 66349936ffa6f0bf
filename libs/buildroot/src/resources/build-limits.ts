import type { EnvReq } from '@aoinb/bundle';

/** What one build may use; 0 = no limit. */
export interface BuildLimits {
  memoryBytes: number;
  pids: number;
  diskBytes: number;
}

const mib = 1024 * 1024;

export interface LimitSettings {
  memoryLimitMib: number;
  pidsLimit: number;
  diskLimitMib: number;
}

/**
 * The config's defaults, raised to what the bundle's ENVREQ says it needs
 * (`total_mem` GiB, `total_mem_per_core` x `core`, `disk` GB): a package that
 * declares a big build is not killed for it. A limit of 0 stays off.
 */
export function buildLimitsFor(settings: LimitSettings, envreq: EnvReq = {}): BuildLimits {
  const wantedMemory = Math.max(
    (envreq.totalMemGiB ?? 0) * 1024 * mib,
    (envreq.totalMemPerCoreGiB ?? 0) * (envreq.core ?? 1) * 1024 * mib,
  );
  const wantedDisk = (envreq.diskGB ?? 0) * 1e9;
  const raise = (limit: number, wanted: number) => (limit === 0 ? 0 : Math.max(limit, Math.ceil(wanted)));
  return {
    memoryBytes: raise(settings.memoryLimitMib * mib, wantedMemory),
    pids: settings.pidsLimit,
    diskBytes: raise(settings.diskLimitMib * mib, wantedDisk),
  };
}

export function describeBytes(bytes: number): string {
  return `${Math.round(bytes / mib)} MiB`;
}
