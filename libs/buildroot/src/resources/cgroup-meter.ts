import { access, mkdir, readFile, rmdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Meter } from './meter.ts';

const cgroupRoot = '/sys/fs/cgroup';

async function exists(file: string): Promise<boolean> {
  return access(file).then(() => true, () => false);
}

async function readNumber(file: string): Promise<number> {
  return Number((await readFile(file, 'utf8')).trim()) || 0;
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
async function cgroupV2Meter(name: string): Promise<Meter | undefined> {
  const controllers = await readFile(path.join(cgroupRoot, 'cgroup.controllers'), 'utf8').catch(() => '');
  if (!controllers.includes('memory') || !controllers.includes('cpu')) return undefined;
  const parent = path.join(cgroupRoot, 'aoinb');
  const dir = path.join(parent, name);
  try {
    await mkdir(dir, { recursive: true });
    await writeFile(path.join(parent, 'cgroup.subtree_control'), '+cpu +memory').catch(() => undefined);
    await access(path.join(dir, 'memory.current'));
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
      const memoryBytes = await readNumber(path.join(dir, 'memory.current'));
      const kernelPeak = await readNumber(path.join(dir, 'memory.peak')).catch(() => 0);
      peak = Math.max(peak, memoryBytes, kernelPeak);
      return { cpuSeconds: usage / 1e6, memoryBytes, peakMemoryBytes: peak };
    },
    dispose: () => removeWhenEmpty(dir),
  };
}

/** cgroup v1 or hybrid hosts: cpuacct and memory hierarchies side by side. */
async function cgroupV1Meter(name: string): Promise<Meter | undefined> {
  const cpuDir = path.join(cgroupRoot, 'cpuacct', 'aoinb', name);
  const memDir = path.join(cgroupRoot, 'memory', 'aoinb', name);
  if (!(await exists(path.join(cgroupRoot, 'cpuacct', 'cpuacct.usage'))) || !(await exists(path.join(cgroupRoot, 'memory', 'memory.usage_in_bytes')))) {
    return undefined;
  }
  try {
    await mkdir(cpuDir, { recursive: true });
    await mkdir(memDir, { recursive: true });
  } catch {
    await Promise.all([removeWhenEmpty(cpuDir), removeWhenEmpty(memDir)]);
    return undefined;
  }
  return {
    method: 'cgroup-v1',
    enterFiles: [path.join(cpuDir, 'cgroup.procs'), path.join(memDir, 'cgroup.procs')],
    setRootPid() {},
    async read() {
      const cpuNs = await readNumber(path.join(cpuDir, 'cpuacct.usage'));
      const memoryBytes = await readNumber(path.join(memDir, 'memory.usage_in_bytes'));
      const peakMemoryBytes = await readNumber(path.join(memDir, 'memory.max_usage_in_bytes'));
      return { cpuSeconds: cpuNs / 1e9, memoryBytes, peakMemoryBytes };
    },
    dispose: async () => {
      await Promise.all([removeWhenEmpty(cpuDir), removeWhenEmpty(memDir)]);
    },
  };
}

export async function createCgroupMeter(name: string): Promise<Meter | undefined> {
  if (await exists(path.join(cgroupRoot, 'cgroup.controllers'))) return cgroupV2Meter(name);
  return cgroupV1Meter(name);
}
