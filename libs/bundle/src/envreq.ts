import { AoinbError } from '@aoinb/errors';

/**
 * Build-host requirements from `ENVREQ`, with the key names and units AOSC's
 * BuildIt! reads (buildit-utils/src/lib.rs, get_environment_requirement):
 * `core` (logical cores), `total_mem` (GiB), `total_mem_per_core` (GiB per
 * logical core) and `disk` (GB, 10^9 bytes, free space). BuildIt! ignores
 * unknown keys with a warning; the farm rejects them so a typo cannot silently
 * drop a requirement.
 */
export interface EnvReq {
  core?: number;
  totalMemGiB?: number;
  totalMemPerCoreGiB?: number;
  diskGB?: number;
}

const KEYS = {
  core: 'core',
  total_mem: 'totalMemGiB',
  total_mem_per_core: 'totalMemPerCoreGiB',
  disk: 'diskGB',
} as const satisfies Record<string, keyof EnvReq>;

type EnvReqKey = keyof typeof KEYS;

/**
 * Upper bounds far beyond any build host: a value above one is a typo or an attack (a
 * build that could never be placed anywhere), rejected naming the key rather than
 * left to wait forever.
 */
const LIMITS: Record<EnvReqKey, { max: number; unit: string }> = {
  core: { max: 4096, unit: 'logical cores' },
  total_mem: { max: 65_536, unit: 'GiB' },
  total_mem_per_core: { max: 1024, unit: 'GiB per core' },
  disk: { max: 1_000_000, unit: 'GB' },
};

const HINTS: Record<string, string> = {
  mem_per_core: 'total_mem_per_core',
  mem: 'total_mem',
  cores: 'core',
  memory: 'total_mem',
};

/**
 * Parses `core=8 total_mem=16 ...`. `where` prefixes messages, e.g.
 * `spec:4: ENVREQ`. Every problem in the value is reported at once.
 */
export function parseEnvReq(value: string, where: string): EnvReq {
  const result: EnvReq = {};
  const problems: string[] = [];
  for (const item of value.split(/\s+/).filter((s) => s !== '')) {
    const eq = item.indexOf('=');
    const key = eq < 0 ? item : item.slice(0, eq);
    const raw = eq < 0 ? '' : item.slice(eq + 1);
    if (!(key in KEYS)) {
      const hint = HINTS[key] ? ` (did you mean ${HINTS[key]}?)` : '';
      problems.push(`unknown key ${JSON.stringify(key)}${hint}; known keys: ${Object.keys(KEYS).join(', ')}`);
      continue;
    }
    const field = KEYS[key as EnvReqKey];
    if (result[field] !== undefined) {
      problems.push(`${key} is given twice`);
      continue;
    }
    const n = Number(raw);
    if (raw === '' || !Number.isFinite(n) || n <= 0) {
      problems.push(`${key} must be a positive number, got ${JSON.stringify(raw)}`);
    } else if (key === 'core' && !Number.isInteger(n)) {
      problems.push(`core must be a whole number of logical cores, got ${JSON.stringify(raw)}`);
    } else if (n > LIMITS[key as EnvReqKey].max) {
      const { max, unit } = LIMITS[key as EnvReqKey];
      problems.push(`${key} must be at most ${max} (${unit}), got ${JSON.stringify(raw)}`);
    } else {
      result[field] = n;
    }
  }
  if (problems.length > 0) throw new AoinbError('BUNDLE_INVALID', `${where}: ${problems.join('; ')}`);
  return result;
}

/** Combines requirements from several places (spec and every defines): the largest of each wins. */
export function mergeEnvReq(...reqs: EnvReq[]): EnvReq {
  const out: EnvReq = {};
  for (const req of reqs) {
    for (const field of Object.values(KEYS)) {
      const v = req[field];
      if (v !== undefined) out[field] = Math.max(out[field] ?? 0, v);
    }
  }
  return out;
}

/** A host's measured resources, for `envReqShortfalls`. */
export interface HostResources {
  logicalCores: number;
  memoryBytes: number;
  diskFreeBytes: number;
}

/** Lists what a host lacks (empty when it satisfies every requirement), using BuildIt!'s units. */
export function envReqShortfalls(req: EnvReq, host: HostResources): string[] {
  const GiB = 1024 ** 3;
  const out: string[] = [];
  if (req.core !== undefined && host.logicalCores < req.core)
    out.push(`needs ${req.core} cores, host has ${host.logicalCores}`);
  if (req.totalMemGiB !== undefined && host.memoryBytes < req.totalMemGiB * GiB) {
    out.push(`needs ${req.totalMemGiB} GiB memory, host has ${(host.memoryBytes / GiB).toFixed(1)}`);
  }
  if (req.totalMemPerCoreGiB !== undefined && host.memoryBytes / host.logicalCores < req.totalMemPerCoreGiB * GiB) {
    out.push(
      `needs ${req.totalMemPerCoreGiB} GiB memory per core, host ` +
        `has ${(host.memoryBytes / host.logicalCores / GiB).toFixed(1)}`,
    );
  }
  if (req.diskGB !== undefined && host.diskFreeBytes < req.diskGB * 1e9) {
    out.push(`needs ${req.diskGB} GB free disk, host has ${(host.diskFreeBytes / 1e9).toFixed(1)}`);
  }
  return out;
}
