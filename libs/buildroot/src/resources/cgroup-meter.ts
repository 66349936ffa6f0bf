import { access, mkdir, readFile, rmdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describeBytes, type BuildLimits } from './build-limits.ts';
import type { Meter } from './meter.ts';
import { workingSetV1, workingSetV2 } from './working-set.ts';

const cgroupRoot = '/sys/fs/cgroup';

async function exists(file: string): Promise<boolean> {
  return access(file).then(
    () => true,
    () => false,
  );
}

async function readNumber(file: string): Promise<number> {
  return Number((await readFile(file, 'utf8')).trim()) || 0;
}

/** `key N` from a flat-keyed cgroup file (memory.events, pids.events, memory.oom_control). */
async function counter(file: string, key: string): Promise<number> {
  const text = await readFile(file, 'utf8').catch(() => '');
  return Number(new RegExp(`^${key} (\\d+)$`, 'm').exec(text)?.[1] ?? 0);
}

/** Names the limit whose counter moved: an OOM kill in the build, or a refused fork. */
function limitChecker(
  limits: BuildLimits,
  oomFile: string,
  pidsEvents: string | undefined,
): () => Promise<string | undefined> {
  return async () => {
    if (limits.memoryBytes > 0 && (await counter(oomFile, 'oom_kill')) > 0)
      return `memory limit of ${describeBytes(limits.memoryBytes)}`;
    if (pidsEvents && limits.pids > 0 && (await counter(pidsEvents, 'max')) > 0)
      return `process limit of ${limits.pids}`;
    return undefined;
  };
}

async function removeWhenEmpty(dir: string): Promise<void> {
  // A cgroup can be removed only once its last process has gone; that may lag the exit a little.
  for (let attempt = 0; attempt < 20; attempt += 1) {
    try {
      await rmdir(dir);
      return;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

/** Pure cgroup v2 (the usual systemd host): one cgroup with cpu and memory accounting. */
async function cgroupV2Meter(name: string, limits: BuildLimits): Promise<Meter | undefined> {
  const controllers = await readFile(path.join(cgroupRoot, 'cgroup.controllers'), 'utf8').catch(() => '');
  if (!controllers.includes('memory') || !controllers.includes('cpu')) return undefined;
  const parent = path.join(cgroupRoot, 'aoinb');
  const dir = path.join(parent, name);
  try {
    await mkdir(dir, { recursive: true });
    await writeFile(path.join(parent, 'cgroup.subtree_control'), '+cpu +memory +pids').catch(() => undefined);
    await access(path.join(dir, 'memory.current'));
    if (limits.memoryBytes > 0) {
      await writeFile(path.join(dir, 'memory.max'), String(limits.memoryBytes));
      await writeFile(path.join(dir, 'memory.swap.max'), '0').catch(() => undefined);
    }
    if (limits.pids > 0) await writeFile(path.join(dir, 'pids.max'), String(limits.pids));
  } catch {
    await removeWhenEmpty(dir);
    return undefined;
  }
  let peak = 0;
  return {
    method: 'cgroup-v2',
    enterFiles: [path.join(dir, 'cgroup.procs')],
    setRootPid() {},
    async read() {
      const stat = await readFile(path.join(dir, 'cpu.stat'), 'utf8');
      const usage = Number(/usage_usec (\d+)/.exec(stat)?.[1] ?? 0);
      // Not memory.current / memory.peak: they count page cache (see working-set.ts); the peak is sampled.
      const memoryBytes = workingSetV2(await readFile(path.join(dir, 'memory.stat'), 'utf8'));
      peak = Math.max(peak, memoryBytes);
      return { cpuSeconds: usage / 1e6, memoryBytes, peakMemoryBytes: peak };
    },
    limitHit: limitChecker(limits, path.join(dir, 'memory.events'), path.join(dir, 'pids.events')),
    dispose: () => removeWhenEmpty(dir),
  };
}

/** cgroup v1 or hybrid hosts: cpuacct and memory hierarchies side by side. */
async function cgroupV1Meter(name: string, limits: BuildLimits): Promise<Meter | undefined> {
  const cpuDir = path.join(cgroupRoot, 'cpuacct', 'aoinb', name);
  const memDir = path.join(cgroupRoot, 'memory', 'aoinb', name);
  const pidsDir =
    limits.pids > 0 && (await exists(path.join(cgroupRoot, 'pids')))
      ? path.join(cgroupRoot, 'pids', 'aoinb', name)
      : undefined;
  const dirs = [cpuDir, memDir, ...(pidsDir ? [pidsDir] : [])];
  if (
    !(await exists(path.join(cgroupRoot, 'cpuacct', 'cpuacct.usage'))) ||
    !(await exists(path.join(cgroupRoot, 'memory', 'memory.usage_in_bytes')))
  ) {
    return undefined;
  }
  try {
    for (const dir of dirs) await mkdir(dir, { recursive: true });
    if (limits.memoryBytes > 0) {
      await writeFile(path.join(memDir, 'memory.limit_in_bytes'), String(limits.memoryBytes));
      // memory+swap at the same figure: no escaping the limit into swap (absent without swap accounting).
      await writeFile(path.join(memDir, 'memory.memsw.limit_in_bytes'), String(limits.memoryBytes)).catch(
        () => undefined,
      );
    }
    if (pidsDir) await writeFile(path.join(pidsDir, 'pids.max'), String(limits.pids));
  } catch {
    await Promise.all(dirs.map(removeWhenEmpty));
    return undefined;
  }
  let peak = 0;
  return {
    method: 'cgroup-v1',
    enterFiles: dirs.map((dir) => path.join(dir, 'cgroup.procs')),
    setRootPid() {},
    async read() {
      const cpuNs = await readNumber(path.join(cpuDir, 'cpuacct.usage'));
      // Not memory.usage_in_bytes / max_usage_in_bytes: they count page cache (see working-set.ts).
      const memoryBytes = workingSetV1(await readFile(path.join(memDir, 'memory.stat'), 'utf8'));
      peak = Math.max(peak, memoryBytes);
      return { cpuSeconds: cpuNs / 1e9, memoryBytes, peakMemoryBytes: peak };
    },
    limitHit: limitChecker(
      limits,
      path.join(memDir, 'memory.oom_control'),
      pidsDir && path.join(pidsDir, 'pids.events'),
    ),
    dispose: async () => {
      await Promise.all(dirs.map(removeWhenEmpty));
    },
  };
}

/** A cgroup of the build's own, with its memory and process limits set (0 = none). */
export async function createCgroupMeter(
  name: string,
  limits: BuildLimits = { memoryBytes: 0, pids: 0, diskBytes: 0 },
): Promise<Meter | undefined> {
  if (await exists(path.join(cgroupRoot, 'cgroup.controllers'))) return cgroupV2Meter(name, limits);
  return cgroupV1Meter(name, limits);
}
